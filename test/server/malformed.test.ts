// Broken input: each bad frame gets a typed error (or, before hello, a typed refusal) while the
// gateway keeps serving everyone else.
import { describe, expect, it } from 'vitest';
import { connect, helloFrame, join, seqs, startGateway } from '../support/gateway-kit.js';

const badFrames: ReadonlyArray<[name: string, send: string | Uint8Array, code: string, mentions: string]> = [
  ['malformed JSON', '{"type": "message", ', 'bad_frame', 'JSON'],
  ['a JSON array', '[1, 2]', 'bad_frame', 'object'],
  ['no type', '{"content": "hi"}', 'bad_frame', 'type'],
  ['an unknown type', '{"type": "frobnicate"}', 'bad_frame', 'frobnicate'],
  ['a wrong field type', '{"type": "message", "id": 7, "content": "x"}', 'bad_frame', 'id'],
  ['a huge frame', JSON.stringify({ type: 'message', content: 'x'.repeat(1500) }), 'payload_too_large', 'max_payload'],
  ['a binary frame', new Uint8Array([1, 2, 3]), 'bad_frame', 'Binary'],
];

describe('malformed frames after hello', () => {
  it.each(badFrames)('%s gets a typed error; the sender and other clients carry on', async (_name, payload, code, mentions) => {
    const gateway = await startGateway({ maxPayload: 1024 });
    const bystander = await join(gateway, { protocol_max: 1 });
    const sessionId = String(bystander.helloOk['session_id']);
    const { client } = await join(gateway, { session_id: sessionId, protocol_max: 1 });

    if (typeof payload === 'string') client.send(payload);
    else client.sendBinary(payload);
    const error = await client.next('error');
    expect(error).toMatchObject({ code });
    expect(String(error['message'])).toContain(mentions);

    await gateway.publish(sessionId, { type: 'tick' });
    await bystander.client.until((frames) => seqs(frames).includes(1));
    await client.until((frames) => seqs(frames).includes(1));
    await client.sync();
    expect(client.ws.readyState).toBe(client.ws.OPEN);
  });

  it('answers a second hello on a joined socket with an error', async () => {
    const gateway = await startGateway();
    const { client } = await join(gateway);
    client.send(helloFrame());
    expect(await client.next('error')).toMatchObject({ code: 'bad_frame', message: expect.stringContaining('Already joined') });
    await client.sync();
  });
});

describe('before hello', () => {
  it('refuses a garbage first frame with hello_error bad_frame and close 4000', async () => {
    const gateway = await startGateway();
    const client = await connect(gateway);
    client.send('this is not json');
    expect(await client.next('hello_error')).toMatchObject({ code: 'bad_frame', next_step: 'do_not_retry' });
    expect(await client.closed()).toMatchObject({ code: 4000 });
  });

  it('refuses a binary first frame with close 4000', async () => {
    const gateway = await startGateway();
    const client = await connect(gateway);
    client.sendBinary(new Uint8Array([0]));
    expect(await client.next('hello_error')).toMatchObject({ code: 'bad_frame' });
    expect(await client.closed()).toMatchObject({ code: 4000 });
  });

  it('answers a method sent before hello with not_joined and still accepts the hello', async () => {
    const gateway = await startGateway();
    const client = await connect(gateway);
    client.send({ type: 'message', id: 'early', content: 'hi' });
    expect(await client.next('error')).toMatchObject({ code: 'not_joined' });
    client.send({ type: 'resync' });
    expect(await client.next('error')).toMatchObject({ code: 'not_joined' });
    client.send(helloFrame());
    await client.next('hello_ok');
  });
});
