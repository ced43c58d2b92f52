// Entry of the bundled CLI (dist/opsdeck.js), loaded by bin/opsdeck.js.
import { main } from './main.js';

// bin/opsdeck.js hid fetch while the bundle loaded (see there); give it back.
const saved = (globalThis as { __opsdeckFetch?: PropertyDescriptor }).__opsdeckFetch;
if (saved) {
  Object.defineProperty(globalThis, 'fetch', saved);
  delete (globalThis as { __opsdeckFetch?: PropertyDescriptor }).__opsdeckFetch;
}

await main(process.argv);
