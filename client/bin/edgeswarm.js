#!/usr/bin/env node
// The `edgeswarm` CLI's entry point. Node 22 runs the TypeScript source directly.
import "../src/cli/cli.ts";
