// agent-lifeline/testing: a kit to test an app against the faults Lifeline exists for (drops,
// stalls, refused connections, gateway crashes and restarts) with real sockets and no mocks. It
// imports the client and the gateway; neither imports it. See docs/testing.md.
export { createFaultProxy, type FaultProxy, type FaultProxyOptions, type ProxyTarget } from './fault-proxy.js';
export { startTestGateway, type DeployOptions, type RestartOptions, type TestGateway, type TestGatewayOptions } from './test-gateway.js';
export { createManualClock, type ManualClock, type ManualClockOptions } from './manual-clock.js';
export { DEFAULT_WAIT_MS, waitFor, WaitTimeoutError, type ClientSignals, type WaitTarget } from './wait-for.js';
