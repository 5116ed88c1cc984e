// The negotiation matrix against a real gateway: every pairing of client and server ranges,
// including disjoint ranges both ways, an inverted range and the older spellings.
import { describe, expect, it } from 'vitest';
import { connect, helloFrame, startGateway } from '../support/gateway-kit.js';

type Expect = { version: number } | { refused: 'upgrade_client' | 'downgrade_client' | 'do_not_retry' };

// Expectations are written out by hand, not computed with negotiate(): the test must be able to fail.
const matrix: ReadonlyArray<[server: [number, number], client: Record<string, unknown>, expected: Expect]> = [
  [[1, 2], { protocol_min: 1, protocol_max: 1 }, { version: 1 }],
  [[1, 2], { protocol_min: 1, protocol_max: 2 }, { version: 2 }],
  [[1, 2], { protocol_min: 2, protocol_max: 2 }, { version: 2 }],
  [[1, 2], { protocol_min: 2, protocol_max: 5 }, { version: 2 }],
  [[1, 2], { protocol_min: 3, protocol_max: 4 }, { refused: 'downgrade_client' }],
  [[1, 2], { protocol_min: 0, protocol_max: 0 }, { refused: 'upgrade_client' }],
  [[1, 2], { protocol_min: 2, protocol_max: 1 }, { refused: 'do_not_retry' }],
  [[2, 2], { protocol_min: 1, protocol_max: 1 }, { refused: 'upgrade_client' }],
  [[2, 2], { protocol_min: 1, protocol_max: 3 }, { version: 2 }],
  [[1, 1], { protocol_min: 1, protocol_max: 2 }, { version: 1 }],
  [[1, 1], { protocol_min: 2, protocol_max: 2 }, { refused: 'downgrade_client' }],
  // Older spelling and no range at all (means 1..1).
  [[1, 2], { protocol_min: undefined, protocol_max: undefined, protocol: { min: 1, max: 2 } }, { version: 2 }],
  [[1, 2], { protocol_min: undefined, protocol_max: undefined }, { version: 1 }],
  [[2, 2], { protocol_min: undefined, protocol_max: undefined }, { refused: 'upgrade_client' }],
];

describe('version negotiation', () => {
  it.each(matrix)('server %j, client %j -> %j', async ([min, max], fields, expected) => {
    const gateway = await startGateway({ protocol: { min, max } });
    const client = await connect(gateway);
    client.send(helloFrame(fields));
    const answer = await client.next();
    if ('version' in expected) {
      expect(answer).toMatchObject({ type: 'hello_ok', protocol: expected.version, server_min: min, server_max: max });
      return;
    }
    expect(answer).toMatchObject({ type: 'hello_error', code: 'protocol_unsupported', next_step: expected.refused, server_min: min, server_max: max });
    expect(await client.closed()).toMatchObject({ code: 4006, reason: 'protocol_unsupported' });
  });

  it('refuses a hello whose versions are not numbers as a bad frame', async () => {
    const gateway = await startGateway();
    const client = await connect(gateway);
    client.send(helloFrame({ protocol_min: '1', protocol_max: '1' }));
    const answer = await client.next('hello_error');
    expect(answer).toMatchObject({ code: 'bad_frame' });
    expect(String(answer['message'])).toContain('protocol_min');
    expect(await client.closed()).toMatchObject({ code: 4000 });
  });

  it('rejects an invalid server range at startup', async () => {
    await expect(startGateway({ protocol: { min: 2, max: 1 } })).rejects.toMatchObject({ code: 'configuration_error' });
  });
});
