// `npm run schema`: regenerate schema/protocol.schema.json from the valibot schemas.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderProtocolJsonSchema } from './protocol-json-schema.js';

const target = resolve(dirname(fileURLToPath(import.meta.url)), '../protocol.schema.json');
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, renderProtocolJsonSchema());
console.log(`wrote ${target}`);
