/**
 * Smoke page: each bundle named by a `bundle` query parameter is loaded and
 * smoked (`_smoke_cases.ts`) in this page and in a dedicated worker.
 */

import type { CaseResult } from "./_opfs_cases.ts";
import { smoke } from "./_smoke_cases.ts";

function inWorker(url: string): Promise<CaseResult[] | string> {
  const worker = new Worker("./smoke_worker.js", { type: "module" });
  worker.postMessage(url);
  return new Promise<CaseResult[] | string>((resolve) => {
    worker.onmessage = (event) => resolve(event.data);
    worker.onerror = (event) => resolve(`worker error: ${event.message}`);
  }).finally(() => worker.terminate());
}

const results: Record<string, CaseResult[] | string> = {};
for (const url of new URL(location.href).searchParams.getAll("bundle")) {
  const label = url.replace(/^\/lib\/|\.js$/g, "");
  results[`${label} page`] = await smoke(url, "page").catch(String);
  results[`${label} worker`] = await inWorker(url);
}
await fetch("/results", { method: "POST", body: JSON.stringify(results) });
