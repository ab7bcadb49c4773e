/** Benchmark worker. */

import { measure } from "./_measure.ts";

postMessage(await measure("worker"));
