// Crypto-random version 4 UUIDs, as `crypto.randomUUID` makes them, for a fraction of its cost:
// the gateway makes one per published event (and per session), so this is on the publish path.
// The random bytes come from `randomFillSync` in blocks of 4096 ids (randomUUID draws 128 at a
// time), and each id is written into one buffer and read back as one string: randomUUID builds
// it from about twenty concatenations, which JSON.stringify must then flatten.
import { randomFillSync } from 'node:crypto';

const IDS_PER_FILL = 4096;
const HEX = Buffer.from('0123456789abcdef', 'latin1');
const DASH = 0x2d;

let pool: Buffer | undefined;
let next = IDS_PER_FILL;
const text = Buffer.alloc(36);

/** A random UUID (version 4, RFC 9562), lower-case hex with dashes. */
export function randomId(): string {
  pool ??= Buffer.alloc(16 * IDS_PER_FILL);
  if (next === IDS_PER_FILL) {
    randomFillSync(pool);
    next = 0;
  }
  const at = 16 * next++;
  let out = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text[out++] = DASH;
    let byte = pool[at + i] as number;
    // The version (4) and the variant (10xx) take the bits randomUUID gives them.
    if (i === 6) byte = (byte & 0x0f) | 0x40;
    else if (i === 8) byte = (byte & 0x3f) | 0x80;
    text[out++] = HEX[byte >> 4] as number;
    text[out++] = HEX[byte & 0x0f] as number;
  }
  return text.toString('latin1', 0, 36);
}
