// The public stream and hooks: events() is ordered, duplicate-free, survives reconnects, ends on
// disconnect() and throws the typed error when the client stops on its own; inspect sees the chart.
import { describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { GatewayConnectError, type GatewayEvent } from '../../src/client/index.js';
import { publishMany, startGateway } from '../support/gateway-kit.js';
import { waitFor, waitForState } from '../support/wait-for.js';
import { makeClient, proxyFor } from './kit.js';

async function collect(iterable: AsyncIterable<GatewayEvent>, into: GatewayEvent[]): Promise<unknown> {
  try {
    for await (const event of iterable) into.push(event);
    return 'done';
  } catch (error) {
    return error;
  }
}

describe('events()', () => {
  it('keeps events that arrived before the loop started, survives a reconnect and ends on disconnect()', async () => {
    const gw = await startGateway();
    const proxy = await proxyFor(gw);
    const client = makeClient(proxy.url);
    await client.connect();
    const sessionId = client.info.sessionId ?? '';
    await publishMany(gw, sessionId, 2);
    await waitFor(() => client.info.cursor === 2, 1000, 'cursor 2');

    const seen: GatewayEvent[] = [];
    const loop = collect(client.events(), seen);
    proxy.drop();
    await waitForState(client, 'reconnecting');
    await publishMany(gw, sessionId, 2);
    await waitFor(() => seen.length === 4, 2000, 'four events');
    expect(seen.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    await client.disconnect();
    await expect(loop).resolves.toBe('done');
  });

  it('keeps no early events for an app that listens with onEvent (no hidden copy of the stream)', async () => {
    const gw = await startGateway();
    const client = makeClient(gw.url);
    const heard: GatewayEvent[] = [];
    client.onEvent((event) => heard.push(event));
    await client.connect();
    await publishMany(gw, client.info.sessionId ?? '', 3);
    await waitFor(() => heard.length === 3, 1000, 'three events');
    // A loop opened later starts from now: the three were not buffered behind the listener.
    const seen: GatewayEvent[] = [];
    const loop = collect(client.events(), seen);
    await publishMany(gw, client.info.sessionId ?? '', 1);
    await waitFor(() => seen.length === 1, 1000, 'one event');
    expect(seen.map((e) => e.seq)).toEqual([4]);
    await client.disconnect();
    await loop;
  });

  it('throws the typed error when the client stops on a fatal close', async () => {
    const gw = await startGateway({ heartbeatMs: 1000 });
    const client = makeClient(gw.url, { reconnect: false });
    await client.connect();
    const seen: GatewayEvent[] = [];
    const loop = collect(client.events(), seen);
    await gw.terminate();
    const error = await loop;
    expect(error).toBeInstanceOf(GatewayConnectError);
    expect(error).toMatchObject({ code: 'connection_lost', closeCode: 1006 });
    expect(client.info.lastClose?.code).toBe(1006);
  });

  it('passes inspection events to the inspect option, and every on… returns an unsubscribe', async () => {
    const gw = await startGateway();
    const inspected: string[] = [];
    const client = makeClient(gw.url, {
      inspect: (event: InspectionEvent) => {
        if (event.type === '@xstate.event') inspected.push(event.event.type);
      },
    });
    const states: string[] = [];
    const off = client.onState((s) => states.push(s));
    await client.connect();
    off();
    await client.disconnect();
    expect(states).toEqual(['connecting', 'negotiating', 'joined']);
    expect(inspected).toEqual(expect.arrayContaining(['user.connect', 'socket.opened', 'hello.accepted', 'caught_up', 'user.disconnect']));
    // Per-event data never reaches the chart.
    expect(inspected.some((t) => t.startsWith('event') || t === 'tick')).toBe(false);
  });

  it('works with its methods taken off the object, as apps pass them around (onClick={client.disconnect})', async () => {
    const gw = await startGateway();
    const client = makeClient(gw.url);
    const { connect, onEvent, send, checkpoint, disconnect } = client;
    const heard: GatewayEvent[] = [];
    onEvent((event) => heard.push(event));
    await connect();
    expect(client.state).toBe('joined');
    await expect(send({ hello: 'world' })).resolves.toMatchObject({ acknowledged: true });
    await publishMany(gw, client.info.sessionId ?? '', 1);
    await waitFor(() => heard.length === 1, 1000, 'one event');
    expect(checkpoint()).toMatchObject({ sessionId: client.info.sessionId, cursor: 1 });
    await disconnect();
    expect(client.state).toBe('disconnected');
  });
});
