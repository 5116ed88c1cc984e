#!/usr/bin/env node
// The `lifeline` command: gateway, conformance, story, start. Runs the compiled CLI from dist/.
import '../dist/src/cli/main.js';
