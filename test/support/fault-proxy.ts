// The TCP fault proxy is part of the testing entry (`agent-lifeline/testing`); re-exported here so
// tests keep their import.
export { createFaultProxy, type FaultProxy, type FaultProxyOptions, type ProxyTarget } from '../../src/testing/index.js';
