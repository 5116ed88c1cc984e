// lifeline/protocol: the wire contract shared by every Lifeline client and gateway.
// Pure: no Node, no ws, no I/O, so browsers and third-party clients can use it as is.
export * from './versions.js';
export * from './errors.js';
export * from './close-codes.js';
export * from './frames.js';
export * from './codec.js';
export * from './frame-limits.js';
export * from './assert-never.js';
export * from './credentials.js';
