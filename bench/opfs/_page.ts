/** Benchmark page: measures in the page, then in a dedicated worker. */

import { measure } from "./_measure.ts";

const page = await measure("page");
const worker = new Worker("./bench_worker.js", { type: "module" });
const inWorker = await new Promise((resolve) => {
  worker.onmessage = (event) => resolve(event.data);
});
await fetch("/results", {
  method: "POST",
  body: JSON.stringify({ page, worker: inWorker }),
});
