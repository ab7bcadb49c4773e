/** Page entry: runs the cases in the page, then in a dedicated worker. */

import { type CaseResult, runCases } from "./_opfs_cases.ts";

/** Progress to the test server, which shows it when a browser hangs. */
function log(message: string): void {
  fetch("/log", { method: "POST", body: message }).catch(() => {});
}
log("page loaded");

async function inWorker(): Promise<CaseResult[]> {
  const worker = new Worker("./worker.js", { type: "module" });
  return await new Promise((resolve, reject) => {
    worker.onmessage = (event) => {
      if (typeof event.data === "string") log(event.data);
      else resolve(event.data);
    };
    worker.onerror = (event) => reject(new Error(event.message));
  });
}

const results: Record<string, CaseResult[] | string> = {};
try {
  results.page = await runCases("page", log);
} catch (error) {
  results.page = String(error);
}
try {
  results.worker = await inWorker();
} catch (error) {
  results.worker = String(error);
}
(globalThis as { __results?: unknown }).__results = results;
// WebKit's MiniBrowser cannot be scripted: the page reports by POST.
await fetch("/results", { method: "POST", body: JSON.stringify(results) });
document.title = "done";
