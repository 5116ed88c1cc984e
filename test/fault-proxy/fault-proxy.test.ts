// Each fault of the proxy, observed through a real ws client and server on 127.0.0.1.
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { createFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { waitFor } from '../support/wait-for.js';

interface EchoServer {
  readonly port: number;
  /** Raw TCP sockets of accepted connections, to count how bytes arrived. */
  readonly sockets: Socket[];
  /** Messages received, in order. */
  readonly received: string[];
  close(): Promise<void>;
}

/** A ws server that answers every message with `${name}:${message}`. */
async function startEchoServer(name: string): Promise<EchoServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const sockets: Socket[] = [];
  const received: string[] = [];
  wss.on('connection', (ws, request) => {
    sockets.push(request.socket);
    ws.on('message', (data: RawData) => {
      received.push(data.toString());
      ws.send(`${name}:${data.toString()}`);
    });
  });
  return {
    port: (wss.address() as AddressInfo).port,
    sockets,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        wss.clients.forEach((client) => client.terminate());
        wss.close(() => resolve());
      }),
  };
}

/** Resolve with the args of the first `event` emitted, or reject after `ms`. */
function once<T extends unknown[]>(target: { once(event: string, listener: (...args: T) => void): unknown }, event: string, ms = 2000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${event}" within ${ms} ms`)), ms);
    target.once(event, (...args: T) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

/** Resolve true if `event` fires within `ms`, false otherwise: the window is the assertion. */
function firesWithin(target: WebSocket, event: string, ms: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const listener = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      target.off(event, listener);
      resolve(false);
    }, ms);
    target.once(event, listener);
  });
}

async function open(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  cleanups.push(() => ws.terminate());
  await once(ws, 'open');
  return ws;
}

async function roundTrip(ws: WebSocket, text: string, ms = 2000): Promise<string> {
  const reply = once<[RawData]>(ws, 'message', ms);
  ws.send(text);
  const [data] = await reply;
  return data.toString();
}

/** Open a socket that must fail before opening; resolves with its close code. */
function failedOpen(url: string): Promise<number> {
  const ws = new WebSocket(url);
  cleanups.push(() => ws.terminate());
  ws.on('error', () => undefined);
  ws.once('open', () => ws.close());
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('socket neither opened nor failed')), 2000);
    ws.once('close', (code: number) => {
      clearTimeout(timer);
      resolve(code);
    });
    ws.once('open', () => reject(new Error('socket opened through a refusing proxy')));
  });
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(): Promise<{ server: EchoServer; proxy: FaultProxy }> {
  const server = await startEchoServer('a');
  cleanups.push(() => server.close());
  const proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: server.port } });
  cleanups.push(() => proxy.close());
  return { server, proxy };
}

describe('fault proxy', () => {
  it('forwards both ways and counts connections', async () => {
    const { proxy } = await setup();
    expect(proxy.url).toBe(`ws://127.0.0.1:${proxy.port}`);
    const ws = await open(proxy.url);
    expect(await roundTrip(ws, 'hi')).toBe('a:hi');
    expect(proxy.connections).toBe(1);
    ws.close();
    await proxy.waitForConnections(0);
  });

  it('drop() resets both sides: each sees an abnormal close, and new connections still work', async () => {
    const { server, proxy } = await setup();
    const ws = await open(proxy.url);
    await roundTrip(ws, 'warm');
    const serverSocket = server.sockets[0];
    if (!serverSocket) throw new Error('server saw no connection');
    const serverClosed = once(serverSocket, 'close');
    const clientClosed = once<[number]>(ws, 'close');
    proxy.drop();
    const [code] = await clientClosed;
    expect(code).toBe(1006);
    await serverClosed;
    await proxy.waitForConnections(0);
    expect(await roundTrip(await open(proxy.url), 'again')).toBe('a:again');
  });

  it('stall() holds bytes both ways with the sockets open; resume() delivers them in order', async () => {
    const { proxy } = await setup();
    const ws = await open(proxy.url);
    await roundTrip(ws, 'warm');
    proxy.stall();
    ws.send('one');
    ws.send('two');
    expect(await firesWithin(ws, 'message', 300)).toBe(false);
    expect(ws.readyState).toBe(WebSocket.OPEN);
    expect(proxy.connections).toBe(1);
    const replies: string[] = [];
    const both = new Promise<void>((resolve) =>
      ws.on('message', (data: RawData) => {
        replies.push(data.toString());
        if (replies.length === 2) resolve();
      }),
    );
    proxy.resume();
    await both;
    expect(replies).toEqual(['a:one', 'a:two']);
  });

  it("stall('down') lets the client's frames reach the server but holds what comes back", async () => {
    const { server, proxy } = await setup();
    const ws = await open(proxy.url);
    await roundTrip(ws, 'warm');
    proxy.stall('down');
    const reply = once<[RawData]>(ws, 'message', 5000);
    ws.send('up');
    await waitFor(() => server.received.includes('up'), 2000, 'the frame to reach the server');
    expect(server.received).toEqual(['warm', 'up']);
    expect(await firesWithin(ws, 'message', 300)).toBe(false);
    proxy.resume();
    expect(String((await reply)[0])).toBe('a:up');
  });

  it('stall() also holds connections opened while stalled', async () => {
    const { proxy } = await setup();
    proxy.stall();
    const ws = new WebSocket(proxy.url);
    cleanups.push(() => ws.terminate());
    expect(await firesWithin(ws, 'open', 300)).toBe(false);
    proxy.resume();
    await once(ws, 'open');
  });

  it('delay(ms) adds latency to every chunk in each direction', async () => {
    const { proxy } = await setup();
    const ws = await open(proxy.url);
    proxy.delay(150);
    const started = performance.now();
    expect(await roundTrip(ws, 'slow')).toBe('a:slow');
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    proxy.delay(0);
    const fast = performance.now();
    await roundTrip(ws, 'fast');
    expect(performance.now() - fast).toBeLessThan(150);
  });

  it('refuse(true) resets new connections before the upgrade; refuse(false) lets them in', async () => {
    const { server, proxy } = await setup();
    const existing = await open(proxy.url);
    proxy.refuse(true);
    expect(await failedOpen(proxy.url)).toBe(1006);
    expect(server.sockets).toHaveLength(1);
    expect(await roundTrip(existing, 'still')).toBe('a:still');
    proxy.refuse(false);
    expect(await roundTrip(await open(proxy.url), 'in')).toBe('a:in');
  });

  it('pass() undoes every fault at once: a stalled, delayed, split and refusing proxy forwards normally again', async () => {
    const { server, proxy } = await setup();
    const ws = await open(proxy.url);
    await roundTrip(ws, 'warm');
    proxy.stall();
    proxy.delay(400);
    proxy.split(3);
    proxy.refuse(true);
    ws.send('held');
    expect(await firesWithin(ws, 'message', 200)).toBe(false);
    proxy.pass();
    const started = performance.now();
    expect(String((await once<[RawData]>(ws, 'message'))[0])).toBe('a:held');
    expect(await roundTrip(await open(proxy.url), 'in')).toBe('a:in');
    expect(performance.now() - started).toBeLessThan(400);
    expect(server.sockets).toHaveLength(2);
  });

  it('setTarget() sends new connections elsewhere and leaves existing ones', async () => {
    const { proxy } = await setup();
    const other = await startEchoServer('b');
    cleanups.push(() => other.close());
    const first = await open(proxy.url);
    proxy.setTarget({ host: '127.0.0.1', port: other.port });
    expect(await roundTrip(await open(proxy.url), 'x')).toBe('b:x');
    expect(await roundTrip(first, 'y')).toBe('a:y');
  });

  it('an unreachable target looks like a connection that dies before the upgrade', async () => {
    const { server, proxy } = await setup();
    await server.close();
    expect(await failedOpen(proxy.url)).toBe(1006);
    await proxy.waitForConnections(0);
  });

  it('split(bytes) delivers frames in small pieces that ws reassembles', async () => {
    const { server, proxy } = await setup();
    proxy.split(7);
    const ws = await open(proxy.url);
    const serverSocket = server.sockets[0];
    if (!serverSocket) throw new Error('server saw no connection');
    let reads = 0;
    serverSocket.on('data', () => reads++);
    const text = 'x'.repeat(300);
    expect(await roundTrip(ws, text)).toBe(`a:${text}`);
    // 300 bytes of payload plus framing in 7-byte writes: far more than one read.
    expect(reads).toBeGreaterThan(10);
  });

  it('close() ends current connections and stops listening', async () => {
    const { proxy } = await setup();
    const ws = await open(proxy.url);
    const closed = once<[number]>(ws, 'close');
    await proxy.close();
    expect((await closed)[0]).toBe(1006);
    expect(await failedOpen(proxy.url)).toBe(1006);
  });
});
