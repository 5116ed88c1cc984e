// The HTTP binding's connections by id. A stream's id is the capability its POSTs present, so it
// is unguessable, and it names the node that holds the stream (`<node-id>.<random>`): a fleet can
// route a POST that lands on another node to that one (PROTOCOL.md section 9).
import { randomBytes } from 'node:crypto';

/** Where the POST endpoint finds the connection a frame is for. */
export interface ConnectionDirectory<T> {
  /**
   * Register a connection under a new id: `<node-id>.<128 random bits, base64url>`, the node id
   * percent-encoded (as `encodeURIComponent` does) so the id is safe in a header and a query.
   */
  add(connection: T): string;
  /** The connection with this id on this node, if it is still open. */
  find(id: string): T | undefined;
  remove(id: string): void;
  /** Connections registered now. */
  readonly size: number;
}

/**
 * The node part of a connection id, or undefined for a string that is not one. The random part
 * is base64url, which has no `.`, so a node id may contain dots (a host name).
 */
export function nodeOfConnection(id: string): string | undefined {
  const dot = id.lastIndexOf('.');
  if (dot <= 0 || !/^[A-Za-z0-9_-]{22}$/.test(id.slice(dot + 1))) return undefined;
  try {
    return decodeURIComponent(id.slice(0, dot));
  } catch {
    return undefined;
  }
}

/** A directory of this node's connections. */
export function createConnectionDirectory<T>(nodeId: string): ConnectionDirectory<T> {
  const byId = new Map<string, T>();
  const node = encodeURIComponent(nodeId);
  return {
    add(connection) {
      const id = `${node}.${randomBytes(16).toString('base64url')}`;
      byId.set(id, connection);
      return id;
    },
    find: (id) => byId.get(id),
    remove(id) {
      byId.delete(id);
    },
    get size() {
      return byId.size;
    },
  };
}
