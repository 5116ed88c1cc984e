// One raw WebSocket under test: records every frame the gateway sends, answers its heartbeat
// pings (so a slow run is never reaped), and lets rules wait for frames with bounded timeouts.
import WebSocket, { type RawData } from 'ws';
import { CloseCode } from '../protocol/close-codes.js';
import { redactTokens } from '../protocol/credentials.js';
import { FrameRecorder, received } from './frame-recorder.js';

export type { CloseInfo, Received } from './frame-recorder.js';

/** A connection opened by a rule. Every wait is bounded; a close ends all waits early. */
export class Probe extends FrameRecorder {
  /** Heartbeat pings the gateway sent (answered with pong). */
  pings = 0;

  private constructor(private readonly socket: WebSocket) {
    super();
    socket.on('message', (data: RawData, isBinary: boolean) => this.receive(data, isBinary));
    socket.on('close', (code: number, reason: Buffer) => this.closed({ code, reason: reason.toString() }));
    // Errors after open end in 'close'; nothing to add here, but an unhandled 'error' would crash.
    socket.on('error', () => undefined);
  }

  /** Open a socket; rejects with a readable message when the upgrade fails or times out. */
  static open(url: string, timeoutMs: number): Promise<Probe> {
    return new Promise<Probe>((resolve, reject) => {
      const socket = new WebSocket(url, { handshakeTimeout: timeoutMs });
      socket.once('open', () => resolve(new Probe(socket)));
      socket.once('error', (error: Error) => reject(new Error(`cannot open ${redactTokens(url)}: ${error.message}`)));
      socket.once('unexpected-response', (_request, response) => {
        reject(new Error(`cannot open ${redactTokens(url)}: HTTP ${String(response.statusCode)}`));
        socket.terminate();
      });
    });
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  send(frame: object): void {
    this.sendRaw(JSON.stringify(frame));
  }

  sendRaw(data: string | Buffer): void {
    if (this.isOpen) this.socket.send(data, { binary: typeof data !== 'string' });
  }

  /** Close politely, then hard after a short grace, and resolve when closed. */
  async close(): Promise<void> {
    if (this.closeInfo) return;
    this.socket.close(CloseCode.Normal);
    if (!(await this.waitForClose(1000))) this.socket.terminate();
  }

  private receive(data: RawData, isBinary: boolean): void {
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');
    const frame = received(text, isBinary);
    // Answered before the rule sees it, so a slow run is never reaped.
    if (frame.json?.['type'] === 'ping') {
      this.pings++;
      this.send(frame.json['ts'] === undefined ? { type: 'pong' } : { type: 'pong', ts: frame.json['ts'] });
    }
    this.record(frame);
  }
}
