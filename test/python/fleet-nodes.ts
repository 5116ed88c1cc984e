// Gateway nodes for the Python client's failover tests: real gateways on loopback that share one
// in-memory event log, as a fleet on Redis shares its streams, so a client that leaves one node
// resumes on another from its cursor. Driven by harness.ts with `{op: "node", method, args}`.
import { createGateway, createMemoryLog, type Gateway } from '../../src/server/index.js';

/** What a test may do to one node, by name. */
export type NodeCall =
  | { readonly method: 'publish'; readonly args: [sessionId: string, count: number] }
  | { readonly method: 'terminate'; readonly args: [] }
  | { readonly method: 'close'; readonly args: [] }
  | { readonly method: 'drain'; readonly args: [spreadMs: number] };

const METHODS: ReadonlySet<string> = new Set<NodeCall['method']>(['publish', 'terminate', 'close', 'drain']);

/** Narrow untrusted JSON to a `NodeCall` by its method name and argument list. */
export function isNodeCall(value: unknown): value is NodeCall {
  if (typeof value !== 'object' || value === null || !('method' in value) || !('args' in value)) return false;
  return typeof value.method === 'string' && METHODS.has(value.method) && Array.isArray(value.args);
}

/** Running nodes on one log. */
export interface FleetNodes {
  /** `ws://127.0.0.1:PORT` of each node, in order. */
  readonly urls: readonly string[];
  call(node: number, call: NodeCall): Promise<unknown>;
  close(): Promise<void>;
}

/** Start `count` gateways (1 to 5) sharing one memory log. */
export async function startFleetNodes(count: number, setup: { readonly heartbeatMs?: number } = {}): Promise<FleetNodes> {
  if (!Number.isInteger(count) || count < 1 || count > 5) throw new Error(`nodes must be an integer from 1 to 5; got ${String(count)}`);
  const log = createMemoryLog({ replayWindow: 1000 });
  const gateways: Gateway[] = [];
  for (let i = 0; i < count; i++) {
    gateways.push(await createGateway({ host: '127.0.0.1', port: 0, logger: false, log, heartbeatMs: setup.heartbeatMs ?? 1000 }));
  }
  function node(index: number): Gateway {
    const gateway = gateways[index];
    if (!gateway) throw new Error(`no node ${index}`);
    return gateway;
  }
  return {
    urls: gateways.map((g) => g.url),
    async call(index, call) {
      const gateway = node(index);
      switch (call.method) {
        case 'publish': {
          const [sessionId, n] = call.args;
          const seqs: number[] = [];
          for (let i = 0; i < n; i++) seqs.push(await gateway.publish(sessionId, { type: 'tick', data: { n: i + 1 } }));
          return seqs;
        }
        case 'terminate':
          return gateway.terminate();
        case 'close':
          return gateway.close();
        case 'drain':
          return gateway.drain({ spreadMs: call.args[0] });
      }
    },
    async close() {
      // terminate() after close() or terminate() returns the same stop, so this is safe for every node.
      await Promise.all(gateways.map((g) => g.terminate()));
    },
  };
}
