#!/usr/bin/env node
// The `opsdeck` command: set up colour before any colour library loads, then run the bundle.
import { existsSync } from 'node:fs';

// NO_COLOR (no-color.org) is honoured by turning colour off at the source.
if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') process.env.FORCE_COLOR = '0';

const bundle = new URL('../dist/opsdeck.js', import.meta.url);
if (!existsSync(bundle)) {
  process.stderr.write('opsdeck: the build is missing (dist/opsdeck.js). Run `npm install` (or `npm run build`) in the opsdeck checkout.\n');
  process.exit(2);
}
await import(bundle.href);
