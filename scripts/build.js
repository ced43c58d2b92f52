// Bundle the CLI (and later the console) into one file: the launcher then loads one module
// instead of hundreds, which is most of the start-up time on a small machine.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

await build({
  entryPoints: ['src/cli/entry.ts'],
  outfile: 'dist/opsdeck.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  // Less to parse at start-up (parse time is most of it); the source map keeps traces readable.
  minify: true,
  keepNames: false,
  legalComments: 'none',
  jsx: 'automatic',
  define: { OPSDECK_VERSION: JSON.stringify(pkg.version), 'process.env.NODE_ENV': '"production"' },
  // Some dependencies are CommonJS and call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __opsdeckRequire } from 'node:module'; const require = __opsdeckRequire(import.meta.url);" },
  // Ink loads devtools (and its websocket) only when DEV=true; the bundle carries stubs instead.
  alias: { 'react-devtools-core': './scripts/devtools-stub.js', ws: './scripts/devtools-stub.js' },
  logLevel: 'warning',
});
