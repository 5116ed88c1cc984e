// The fleet's node registry on Redis: one hash `{fleet}:nodes` (hash-tagged, so one slot in a
// cluster), field per node -> its last report with the wall time it was written. Each report
// reads the whole hash back, sums the nodes that reported within `freshMs`, and drops the rest.
import type { GatewayClock } from '../clock.js';
import type { FleetView, NodeRegistry, NodeReport } from '../fleet.js';
import type { RedisConnection } from './connection.js';

/** The node registry on `connection`, under `keyPrefix`. */
export function createRedisNodeRegistry(connection: RedisConnection, keyPrefix: string, clock: GatewayClock): NodeRegistry {
  const key = `${keyPrefix}{fleet}:nodes`;
  const { client } = connection;
  return {
    async report(report: NodeReport, freshMs: number): Promise<FleetView> {
      const now = clock.wallNow(); // wall time: compared across processes, never used as a deadline
      const [, all] = await connection.call('fleet', () => Promise.all([client.hSet(key, report.node, JSON.stringify({ ...report, at: now })), client.hGetAll(key)]));
      const view = { nodes: 0, connections: 0, sessions: 0 };
      const stale: string[] = [];
      for (const [node, json] of Object.entries(all as Record<string, string>)) {
        const entry = JSON.parse(json) as NodeReport & { at: number };
        if (now - entry.at > freshMs) {
          stale.push(node);
          continue;
        }
        view.nodes++;
        view.connections += entry.connections;
        view.sessions += entry.sessions;
      }
      if (stale.length > 0) await connection.call('fleet', () => client.hDel(key, stale));
      return view;
    },
  };
}
