// Listening on a port as a promise that rejects with a typed error. Node reports a busy or foreign
// address as an 'error' event, and anything that re-emits it (ws's WebSocketServer does) crashes
// the process unless it has a listener, so every server we own goes through here.
import type { Server } from 'node:net';
import { GatewayError } from './errors.js';

/**
 * The typed error for a failed `listen`: `address_in_use` for EADDRINUSE, `address_unavailable`
 * for an address this machine does not have, a privileged port or an unknown host name.
 */
export function listenError(error: Error, host: string, port: number): GatewayError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return new GatewayError('address_in_use', `Port ${port} on ${host} is already in use.`, { port });
  }
  const why = code === 'EACCES' ? `port ${port} needs privileges` : code === 'EADDRNOTAVAIL' ? `${host} is not an address of this machine` : error.message;
  return new GatewayError('address_unavailable', `Cannot listen on ${host}:${port}: ${why}.`, { port });
}

/**
 * Listen on `host:port` and resolve with the bound port (the real one when `port` is 0). Rejects
 * with {@link listenError}'s typed error. Once listening, later server errors (such as EMFILE on
 * accept) go to `onError` instead of crashing the process.
 */
export function listenOn(server: Server, host: string, port: number, onError: (error: Error) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const fail = (error: Error): void => reject(listenError(error, host, port));
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      server.on('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}
