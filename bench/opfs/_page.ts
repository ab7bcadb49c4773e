/**
 * Benchmark page: measures in the page, then in a dedicated worker. The
 * query string picks the mode: `?calls` (per-call costs), `?quick` (fewer
 * rounds), none (the full comparison).
 */

import { measureCalls } from "./_calls.ts";
import { measure } from "./_measure.ts";
import { trace } from "./_trace.ts";

const mode = location.search;
const page = mode === "?calls"
  ? await measureCalls("page")
  : mode === "?trace"
  ? await trace("page")
  : await measure("page", mode === "?quick");
const worker = new Worker(`./bench_worker.js${mode}`, { type: "module" });
const inWorker = await new Promise((resolve) => {
  worker.onmessage = (event) => resolve(event.data);
  worker.onerror = (event) => resolve(`error: ${event.message}`);
});
await fetch("/results", {
  method: "POST",
  body: JSON.stringify({
    page,
    worker: inWorker,
    userAgent: navigator.userAgent,
  }),
});
