// PROTOCOL.md is the spec a newcomer reads: its JSON examples must be valid frames, and the
// published JSON Schema must be what the valibot schemas produce today.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeClientFrame, decodeServerFrame } from '../../src/protocol/codec.js';
import { CLIENT_FRAME_TYPES, SERVER_FRAME_TYPES } from '../../src/protocol/frames.js';
import { renderProtocolJsonSchema } from '../../schema/generators/protocol-json-schema.js';

const root = join(import.meta.dirname, '../..');

/** Split a code block into its top-level `{...}` values, respecting strings. */
function topLevelObjects(block: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < block.length; i++) {
    const c = block[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') {
      if (depth++ === 0) start = i;
    } else if (c === '}' && --depth === 0) out.push(block.slice(start, i + 1));
  }
  return out;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

const markdown = readFileSync(join(root, 'PROTOCOL.md'), 'utf8');
const blocks = [...markdown.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
// Inline examples such as `{"type":"ack","id":"m-1"}` in the methods table count too; inline spans
// that are not JSON are shape descriptions (`{"type":"join","agent_id",...}`), not examples.
const inline = [...markdown.matchAll(/`(\{"type":[^`]*\})`/g)].map((m) => m[1] ?? '').filter(isJson);
const examples = [...blocks.flatMap(topLevelObjects), ...inline];

// An example is either complete JSON or elided with "…" (e.g. `"event":{…}`); anything else is a typo.
const complete = examples.flatMap((text) => {
  try {
    return [[text.replace(/\s+/g, ' ').slice(0, 70), text, JSON.parse(text) as { type?: unknown }] as const];
  } catch {
    if (!text.includes('…')) throw new Error(`PROTOCOL.md example is neither JSON nor elided: ${text}`);
    return [];
  }
});

const clientOnly: ReadonlySet<string> = new Set(CLIENT_FRAME_TYPES.filter((t) => !(SERVER_FRAME_TYPES as readonly string[]).includes(t)));

describe('PROTOCOL.md examples', () => {
  it('are found (the parser did not silently skip them all)', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    expect(inline.length).toBeGreaterThanOrEqual(5);
    expect(complete.length).toBeGreaterThanOrEqual(13);
  });

  it.each(complete)('%s', (_label, text, value) => {
    const type = String(value.type);
    if (clientOnly.has(type)) {
      const decoded = decodeClientFrame(text);
      expect(decoded.ok ? 'ok' : decoded.error.message).toBe('ok');
      return;
    }
    const decoded = decodeServerFrame(text);
    expect(decoded.ok ? decoded.kind : decoded.error.message).toBe('contract');
  });
});

describe('schema/protocol.schema.json', () => {
  it('is current', () => {
    const onDisk = readFileSync(join(root, 'schema/protocol.schema.json'), 'utf8');
    expect(onDisk === renderProtocolJsonSchema(), 'schema/protocol.schema.json is stale: run npm run schema').toBe(true);
  });
});
