// Every frame the recorded PraisonAI gateway sent decodes: contract frames as contract, its flat
// live events as foreign. Nothing it sends may be mistaken for garbage.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeServerObject } from '../../src/protocol/codec.js';
import { SERVER_FRAME_TYPES } from '../../src/protocol/frames.js';

const dir = join(import.meta.dirname, '../fixtures/conformance/praisonai-gateway');

interface Entry {
  readonly dir: string;
  readonly frame?: Record<string, unknown>;
}

const received = readdirSync(dir)
  .filter((name) => name.endsWith('.json'))
  .flatMap((name) => {
    const { transcript } = JSON.parse(readFileSync(join(dir, name), 'utf8')) as { transcript: Entry[] };
    return transcript.flatMap((entry, index) => (entry.dir === 'recv' && entry.frame ? [[`${name}#${index}`, entry.frame] as const] : []));
  });

const contractTypes: ReadonlySet<string> = new Set(SERVER_FRAME_TYPES);

describe('PraisonAI transcripts', () => {
  it('hold enough frames to mean something', () => {
    expect(received.length).toBeGreaterThan(100);
  });

  it.each(received)('%s decodes', (_where, frame) => {
    const decoded = decodeServerObject(frame);
    expect(decoded.ok ? 'ok' : decoded.error.message).toBe('ok');
    if (decoded.ok) expect(decoded.kind).toBe(contractTypes.has(String(frame['type'])) ? 'contract' : 'foreign');
  });
});
