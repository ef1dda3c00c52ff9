import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLIENT_API_TYPES, clientApiTypes } from './client-api-types.js';

/** `npm run generate:client`: rewrites the client's API types from the served OpenAPI document. */
const target = join(dirname(fileURLToPath(import.meta.url)), '..', '..', CLIENT_API_TYPES);
await writeFile(target, await clientApiTypes());
process.stdout.write(`${CLIENT_API_TYPES} written from the OpenAPI document\n`);
