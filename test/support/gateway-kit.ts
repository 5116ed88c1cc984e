// Shared test kit for the gateway: start real gateways on 127.0.0.1:0 with quiet logs, open raw
// clients, and close everything after each test so no socket or timer outlives its test.
import { afterEach } from 'vitest';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/server/index.js';
import { connectRaw, type Frame, type RawClient, type RawClientOptions } from './raw-client.js';

const gateways: Gateway[] = [];
const clients: RawClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.ws.terminate();
  await Promise.all(gateways.splice(0).map((g) => g.terminate()));
});

/** Start a gateway on a free port with logs off; it is torn down after the test. */
export async function startGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const gateway = await createGateway({ host: '127.0.0.1', port: 0, logger: false, ...options });
  gateways.push(gateway);
  return gateway;
}

/** Open a raw client that is torn down after the test. */
export async function connect(target: Gateway | string, options: RawClientOptions = {}): Promise<RawClient> {
  const client = await connectRaw(typeof target === 'string' ? target : target.url, options);
  clients.push(client);
  return client;
}

/** A `hello` with sensible defaults; `fields` override or add. */
export function helloFrame(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'hello', agent_id: 'demo', protocol_min: 1, protocol_max: 2, capabilities: ['ack', 'batch', 'epoch'], ...fields };
}

/** Connect, send hello and wait for `hello_ok`, then `caught_up`. */
export async function join(
  target: Gateway | string,
  fields: Record<string, unknown> = {},
  options: RawClientOptions = {},
): Promise<{ client: RawClient; helloOk: Frame; caughtUp: Frame }> {
  const client = await connect(target, options);
  client.send(helloFrame(fields));
  const helloOk = await client.next('hello_ok');
  const caughtUp = await client.next('caught_up');
  return { client, helloOk, caughtUp };
}

/** Replay/event frames received so far, with batches unwrapped. */
export function eventFrames(frames: readonly Frame[], kind?: 'replay' | 'event'): Frame[] {
  const out: Frame[] = [];
  for (const frame of frames) {
    const inner = frame.type === 'batch' && Array.isArray(frame['frames']) ? (frame['frames'] as Frame[]) : [frame];
    for (const f of inner) {
      if ((kind === undefined && (f.type === 'replay' || f.type === 'event')) || f.type === kind) out.push(f);
    }
  }
  return out;
}

/** Seqs of the replay/event frames received so far, with batches unwrapped. */
export function seqs(frames: readonly Frame[], kind?: 'replay' | 'event'): number[] {
  return eventFrames(frames, kind).map((f) => Number(f['seq']));
}

/** Kinds of the event frames in arrival order, with batches unwrapped and caught_up marked. */
export function arrivalKinds(frames: readonly Frame[]): string[] {
  return frames
    .flatMap((frame) => (frame.type === 'batch' && Array.isArray(frame['frames']) ? (frame['frames'] as Frame[]) : [frame]))
    .filter((f) => f.type === 'replay' || f.type === 'event' || f.type === 'caught_up')
    .map((f) => f.type);
}

/** The `event` payloads of the replay/event frames received so far. */
export function events(frames: readonly Frame[]): Record<string, unknown>[] {
  return eventFrames(frames).map((f) => f['event'] as Record<string, unknown>);
}

/** Publish `count` events of type `tick` and return their seqs. */
export async function publishMany(gateway: Gateway, sessionId: string, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(await gateway.publish(sessionId, { type: 'tick', data: { i } }));
  return out;
}
