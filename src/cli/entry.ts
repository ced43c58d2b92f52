// Entry of the bundled CLI (dist/opsdeck.js), loaded by bin/opsdeck.js.
import { main } from './main.js';

await main(process.argv);
