import { parseArgs } from 'node:util';
import { DEFAULT_DEV_SECRET, mintDevToken } from './dev-token.js';

/** `npm run token -- --tenant acme --user alice --roles admin` prints a local dev token. */
const { values } = parseArgs({
  options: {
    tenant: { type: 'string', default: 'acme' },
    user: { type: 'string', default: 'alice' },
    roles: { type: 'string', default: 'admin' },
    'expires-in': { type: 'string', default: '3600' },
  },
});

const token = await mintDevToken({
  tenantId: values.tenant as string,
  userId: values.user as string,
  roles: (values.roles as string).split(/[\s,]+/).filter(Boolean),
  expiresIn: Number(values['expires-in']),
  secret: process.env.FILESTORE_DEV_JWT_SECRET || DEFAULT_DEV_SECRET,
  claimNames: {
    tenantClaim: process.env.JWT_TENANT_CLAIM || 'tenant_id',
    rolesClaim: process.env.JWT_ROLES_CLAIM || 'roles',
  },
});
process.stdout.write(`${token}\n`);
