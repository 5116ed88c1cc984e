#!/usr/bin/env node
// The `agent-lifeline` command: gateway, proxy, conformance, story, start, inspect. Runs the compiled CLI from dist/.
import '../dist/src/cli/main.js';
