// The manual clock is part of the testing entry; re-exported for the tests that import it here.
export { createManualClock, type ManualClock } from '../../src/testing/index.js';
