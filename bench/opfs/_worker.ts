/** Benchmark worker: the mode comes in its URL's query string. */

import { measureCalls } from "./_calls.ts";
import { measure } from "./_measure.ts";
import { trace } from "./_trace.ts";

const mode = location.search;
postMessage(
  mode === "?calls"
    ? await measureCalls("worker")
    : mode === "?trace"
    ? await trace("worker")
    : await measure("worker", mode === "?quick"),
);
