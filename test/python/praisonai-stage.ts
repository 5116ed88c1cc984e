// The PraisonAI stand-in (test/conformance/praisonai-fake.ts) behind the TCP fault proxy, for the
// Python suite: its client connects through the proxy to `/ws`, and a test cuts, refuses or heals
// the link, or has the stand-in answer turns in every session while the client is away.
import { createFaultProxy } from '../../src/testing/index.js';
import { startFakePraisonAI } from '../conformance/praisonai-fake.js';

export interface PraisonAIStage {
  /** The proxy's `ws://…/ws`, without a token. */
  readonly url: string;
  /** `drop`, `refuse(on)` (the proxy) or `publish(count)` (the stand-in). */
  call(method: string, args: readonly unknown[]): unknown;
  close(): Promise<void>;
}

/** Start the stand-in (heartbeat 30 s, so only the test's faults end a connection) and its proxy. */
export async function startPraisonAIStage(token: string, persisted: number | undefined): Promise<PraisonAIStage> {
  const fake = await startFakePraisonAI({ token, heartbeatMs: 30_000, ...(persisted === undefined ? {} : { persisted }) });
  const proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: fake.port } });
  return {
    url: `${proxy.url.replace(/\/$/, '')}/ws`,
    call(method, args) {
      const [first] = args;
      switch (method) {
        case 'drop':
          return proxy.drop();
        case 'refuse':
          return proxy.refuse(first === true);
        case 'publish':
          return fake.publish(Number(first));
        default:
          throw new Error(`not a PraisonAI stage call: ${method}`);
      }
    },
    async close() {
      await proxy.close();
      await fake.close();
    },
  };
}
