// A reference gateway for an app's own tests: on 127.0.0.1, port 0, logs off, behind a fault
// proxy whose URL stays the same when the gateway crashes, restarts or is replaced by a deploy.
// So a test can drop or stall the network under a client, crash the gateway, bring it back with
// or without its history, or roll out a new version, while the client keeps the one URL it was given.
import type { ProtocolRange } from '../protocol/index.js';
import { createGateway, type Gateway, type GatewayOptions } from '../server/index.js';
import { createFaultProxy, type FaultProxy } from './fault-proxy.js';

/** Options for {@link startTestGateway}: the gateway's own, but for where it listens. */
export interface TestGatewayOptions extends Omit<GatewayOptions, 'host' | 'port'> {
  /**
   * Called with every gateway this starts (the first, and each after a restart or deploy): attach
   * `onMessage` handlers or an agent here, as a real deployment does at boot. What it returns, if
   * a function, is called when that gateway stops.
   */
  readonly setup?: (gateway: Gateway) => void | (() => void);
}

/** Options for {@link TestGateway.restart}. */
export interface RestartOptions {
  /**
   * Start on the same event log, as a gateway restarted on durable storage: clients resume where
   * they were. `false` starts on a fresh in-memory log, as after losing its history: clients
   * report a gap with `reason: 'epoch'`. @default true
   */
  readonly keepLog?: boolean;
  /** Serve these protocol versions from now on (an upgrade or a rollback). @default the `protocol` option */
  readonly protocol?: ProtocolRange;
}

/** Options for {@link TestGateway.deploy}. */
export interface DeployOptions {
  /** Protocol versions the new gateway serves. @default the `protocol` option */
  readonly protocol?: ProtocolRange;
  /** Spread of the old gateway's reconnect hints, in ms. @default the `drainSpreadMs` option */
  readonly spreadMs?: number;
}

/** A running test gateway; see {@link startTestGateway}. */
export interface TestGateway {
  /** `ws://127.0.0.1:PORT` of the fault proxy: give this to the client. It stays the same across restarts and deploys. */
  readonly url: string;
  /** The network between clients and the gateway: `drop()`, `stall()`, `refuse(true)`, `pass()` and more. */
  readonly proxy: FaultProxy;
  /**
   * The gateway now running, with its API and hooks (`publish`, `setState`, `onMessage`, `drain`,
   * `expireSession`, `sessions`, `stats`). Throws a `gateway_closed` error between
   * {@link TestGateway.crash} and {@link TestGateway.restart}.
   */
  readonly gateway: Gateway;
  /** Crash the gateway: every socket is destroyed without a close frame (clients see 1006) and it stops listening. */
  crash(): Promise<void>;
  /**
   * Crash the gateway if it runs, then start a new one with the same options and route the proxy
   * to it. Resolves with the new gateway once it listens.
   */
  restart(options?: RestartOptions): Promise<Gateway>;
  /**
   * A rolling deploy: start a new gateway on the same log, route new connections to it, then drain
   * the old one (its clients get `draining` with spread reconnect hints and land on the new one)
   * and close it. Resolves with the new gateway once the old one is closed.
   */
  deploy(options?: DeployOptions): Promise<Gateway>;
  /** Stop the gateway and the proxy. Call it after each test (for example in `afterEach`). */
  close(): Promise<void>;
}

/** The error {@link TestGateway.gateway} throws while no gateway runs. */
class GatewayDownError extends Error {
  override readonly name = 'GatewayDownError';
  readonly code = 'gateway_closed';
  readonly nextStep = 'Call restart() before using the gateway again.';
}

interface Running {
  readonly gateway: Gateway;
  readonly detach: () => void;
}

/**
 * Start a gateway on 127.0.0.1 (a free port, logs off unless `logger` is given) behind a fault
 * proxy. Rejects as `createGateway` does (`configuration_error` for bad options).
 * @example
 * const server = await startTestGateway({ heartbeatMs: 500 });
 * const client = createGatewayClient({ url: server.url, agentId: 'demo' });
 */
export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const { setup, ...gatewayOptions } = options;
  let log = gatewayOptions.log;
  let protocol = gatewayOptions.protocol;
  let running: Running | undefined;

  const start = async (): Promise<Running> => {
    const gateway = await createGateway({
      logger: false,
      ...gatewayOptions,
      ...(log === undefined ? {} : { log }),
      ...(protocol === undefined ? {} : { protocol }),
      host: '127.0.0.1',
      port: 0,
    });
    log = gateway.log;
    const detach = setup?.(gateway);
    return { gateway, detach: typeof detach === 'function' ? detach : () => undefined };
  };
  const crash = async (): Promise<void> => {
    const current = running;
    running = undefined;
    current?.detach();
    await current?.gateway.terminate();
  };

  running = await start();
  let proxy: FaultProxy;
  try {
    proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: running.gateway.port } });
  } catch (error) {
    await crash();
    throw error;
  }
  const takeOver = (next: Running): Gateway => {
    running = next;
    proxy.setTarget({ host: '127.0.0.1', port: next.gateway.port });
    return next.gateway;
  };

  return {
    url: proxy.url,
    proxy,
    get gateway() {
      if (!running) throw new GatewayDownError('The test gateway is down: crashed and not restarted.');
      return running.gateway;
    },
    crash,
    async restart(restartOptions = {}) {
      await crash();
      if (restartOptions.keepLog === false) log = undefined;
      if (restartOptions.protocol !== undefined) protocol = restartOptions.protocol;
      return takeOver(await start());
    },
    async deploy(deployOptions = {}) {
      const old = running;
      if (deployOptions.protocol !== undefined) protocol = deployOptions.protocol;
      // Up first, then drain: clients leaving the old gateway land on the new one.
      const gateway = takeOver(await start());
      if (old) {
        await old.gateway.drain(deployOptions.spreadMs === undefined ? {} : { spreadMs: deployOptions.spreadMs });
        old.detach();
        await old.gateway.close();
      }
      return gateway;
    },
    async close() {
      await crash();
      await proxy.close();
    },
  };
}
