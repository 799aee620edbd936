#!/usr/bin/env node
// The sandbox agent's entry point. Node 22 runs the TypeScript source directly.
import "../src/cli.ts";
