// A `ws` class per client that counts the sockets it creates while armed: the one attempt counter
// that means the same for every library that lets us pass a WebSocket class.
import WebSocket from 'ws';
import { wallNow } from './proc.js';

/** Per-client reconnect bookkeeping: `armed` starts a measurement, `backAt` ends it. */
export interface Tracked {
  attempts: number;
  /** Wall time of each socket created while armed: the load offered to the server. */
  attemptAt: number[];
  up: boolean;
  armed: boolean;
  backAt: number;
}

export function newTracked(): Tracked {
  return { attempts: 0, attemptAt: [], up: false, armed: false, backAt: Number.NaN };
}

export function arm(t: Tracked): void {
  t.armed = true;
  t.attempts = 0;
  t.attemptAt = [];
  t.backAt = Number.NaN;
}

export function countingWebSocket(t: Tracked): new (address: string, protocols?: string | string[]) => WebSocket {
  return class CountingWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols);
      if (t.armed) {
        t.attempts++;
        t.attemptAt.push(wallNow());
      }
    }
  };
}
