// Bundle opsdeck into one CommonJS script, dist/opsdeck.cjs: the launcher then compiles one
// file instead of loading hundreds of modules, and, being a plain script, V8 can cache its
// compiled code between runs (bin/run-bundle.js), which ES modules cannot on Node 20.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

/**
 * A script cannot `await` at its top level; two dependencies do:
 * - yoga-layout loads its WebAssembly that way: Ink's import of it goes to
 *   src/cli/layout-engine.ts, which the console loads before its first render;
 * - Ink's reconciler loads React devtools with DEV=true: the bundle leaves them out.
 * Each replacement must match exactly, or the build fails: a new Ink must be looked at.
 */
const noTopLevelAwait = {
  name: 'no-top-level-await',
  setup(b) {
    b.onResolve({ filter: /^yoga-layout$/ }, () => ({ path: new URL('../src/cli/layout-engine.ts', import.meta.url).pathname }));
    b.onLoad({ filter: /[\\/]ink[\\/]build[\\/]reconciler\.js$/ }, ({ path }) => {
      let source = readFileSync(path, 'utf8');
      for (const [awaited, replacement] of [
        // (DEV=true is a common variable name: it must not break the console.)
        ["await import('./devtools.js');", 'void 0;'],
        ['? await loadPackageJson()', '? { name: undefined, version: undefined }'],
      ]) {
        if (!source.includes(awaited)) throw new Error(`scripts/build.js: ${path} no longer contains ${JSON.stringify(awaited)}; update the no-top-level-await plugin`);
        source = source.replace(awaited, replacement);
      }
      return { contents: source, loader: 'js' };
    });
  },
};

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/opsdeck.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: 'linked',
  // Less to parse at start-up (parse time is most of it); the source map keeps traces readable.
  minify: true,
  keepNames: false,
  legalComments: 'none',
  jsx: 'automatic',
  define: {
    OPSDECK_VERSION: JSON.stringify(pkg.version),
    'process.env.NODE_ENV': '"production"',
    // ES module code asking where it is (the lab's sample app): the script's own file.
    'import.meta.url': '__opsdeckModuleUrl',
  },
  banner: { js: "const __opsdeckModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  plugins: [noTopLevelAwait],
  logLevel: 'warning',
});
