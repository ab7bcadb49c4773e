/** Page of `bench/opfs_sync_handle.ts`: runs the worker, posts its rows. */

const worker = new Worker("./sync_worker.js", { type: "module" });
worker.onmessage = (event) =>
  fetch("/results", {
    method: "POST",
    body: JSON.stringify({ worker: event.data }),
  });
worker.onerror = (event) =>
  fetch("/results", {
    method: "POST",
    body: JSON.stringify({ worker: `error: ${event.message}` }),
  });
