import { parseArgs } from 'node:util';
import { mintDevToken } from './dev-token.js';
import { readLocalConfig } from './local-config.js';

/** `npm run token -- --tenant acme --user alice --roles admin` prints a local dev token. */
const { values } = parseArgs({
  options: {
    tenant: { type: 'string', default: 'acme' },
    user: { type: 'string', default: 'alice' },
    roles: { type: 'string', default: 'admin' },
    'expires-in': { type: 'string', default: '3600' },
  },
});

const local = readLocalConfig(process.env);
if (local.auth.kind !== 'dev') {
  process.stderr.write('Tokens come from your identity provider (JWT_JWKS_URL is set): no dev tokens.\n');
  process.exit(2);
}
const token = await mintDevToken({
  tenantId: values.tenant as string,
  userId: values.user as string,
  roles: (values.roles as string).split(/[\s,]+/).filter(Boolean),
  expiresIn: Number(values['expires-in']),
  secret: local.auth.secret,
  claimNames: local.service.jwt,
});
process.stdout.write(`${token}\n`);
