// Ink's layout engine, yoga (WebAssembly), loaded on demand. Ink itself imports `yoga-layout`,
// which loads it with a top-level await; the bundle is a CommonJS script (so that V8 can cache
// its compiled code, see bin/run-bundle.js), which cannot wait at the top level. So the build
// points Ink's `yoga-layout` at this module, and the console calls loadLayoutEngine() before
// its first render. Run from source (tests), Ink loads its own copy and this one is unused.
import { loadYoga, type Yoga } from 'yoga-layout/load';

let engine: Yoga | undefined;
export { engine as default };

export async function loadLayoutEngine(): Promise<void> {
  if (engine) return;
  // yoga's inlined binary goes through fetch() when there is one, which first loads Node's whole
  // HTTP client (~25 ms); without it, the bytes are decoded directly.
  const fetchProperty = Object.getOwnPropertyDescriptor(globalThis, 'fetch');
  if (fetchProperty?.configurable) delete (globalThis as { fetch?: unknown }).fetch;
  try {
    engine = await loadYoga();
  } finally {
    if (fetchProperty?.configurable) Object.defineProperty(globalThis, 'fetch', fetchProperty);
  }
}
