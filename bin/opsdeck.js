#!/usr/bin/env node
// The `opsdeck` command: set up colour and the terminal environment before any library
// reads it, then run the bundle.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runBundle } from './run-bundle.js';

// NO_COLOR (no-color.org) is honoured by turning colour off at the source.
if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') process.env.FORCE_COLOR = '0';
// Ink decides at import time that a `CI` variable means "not interactive" and then shows only
// its last frame: on a real terminal that looks frozen, so a terminal wins over `CI`.
if (process.stdin.isTTY && process.stdout.isTTY) {
  delete process.env.CI;
  delete process.env.CONTINUOUS_INTEGRATION;
}

const bundle = fileURLToPath(new URL('../dist/opsdeck.cjs', import.meta.url));
if (!existsSync(bundle)) {
  process.stderr.write('opsdeck: the build is missing (dist/opsdeck.cjs). Run `npm install` (or `npm run build`) in the opsdeck checkout.\n');
  process.exit(2);
}
await runBundle(bundle).main(process.argv);
