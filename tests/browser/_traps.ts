/**
 * Engine traps, run in a page by `tests/opfs_browsers_test.ts`:
 * - three contexts (this page and two workers) write one path 20 times each
 *   with locks on: no failure, the final content is one whole version;
 * - a worker terminated in the middle of a write: the target keeps its old
 *   content, the lock is released, and `cleanupTemps` removes the temp file;
 * - a worker holds a pending `openAtomic`: `cleanupTemps` in the page (even
 *   with `olderThan: 0`) resolves and leaves its temp file, and the commit
 *   succeeds; once a holding worker is terminated, `cleanupTemps` with the
 *   default options removes its temp file at once;
 * - `?suite=quota`: a write over the quota fails with an AtomicWriteError
 *   (the driver lowered the quota first), the old content stays, no temp.
 */

import {
  AtomicWriteError,
  cleanupTemps,
  writeTextFile,
} from "@atomic-write/atomic-write/opfs";
import type { CaseResult } from "./_opfs_cases.ts";
import { isWhole, versionText } from "./_version_text.ts";

async function readText(dir: FileSystemDirectoryHandle, name: string) {
  return await (await (await dir.getFileHandle(name)).getFile()).text();
}

async function names(dir: FileSystemDirectoryHandle): Promise<string[]> {
  const result: string[] = [];
  for await (
    const name of (dir as FileSystemDirectoryHandle & {
      keys(): AsyncIterable<string>;
    }).keys()
  ) result.push(name);
  return result;
}

function worker(message: unknown): Worker {
  const w = new Worker("./trap_worker.js", { type: "module" });
  w.postMessage(message);
  return w;
}

function reply(w: Worker): Promise<unknown> {
  return new Promise((resolve, reject) => {
    w.onmessage = (event) => resolve(event.data);
    w.onerror = (event) => reject(new Error(event.message));
  });
}

async function fresh(name: string): Promise<FileSystemDirectoryHandle> {
  const opfs = await navigator.storage.getDirectory();
  await opfs.removeEntry(name, { recursive: true }).catch(() => {});
  return await opfs.getDirectoryHandle(name, { create: true });
}

async function contention(): Promise<string | undefined> {
  const dir = await fresh("trap-contention");
  const workers = [
    worker({ kind: "contend", writer: "w1" }),
    worker({ kind: "contend", writer: "w2" }),
  ];
  const replies = workers.map(reply);
  let failures = 0;
  for (let n = 0; n < 20; n++) {
    await writeTextFile("shared.txt", versionText("page", n), { root: dir })
      .catch(() => failures++);
  }
  const results = await Promise.all(replies) as { failures: number }[];
  workers.forEach((w) => w.terminate());
  failures += results.reduce((sum, r) => sum + r.failures, 0);
  const text = await readText(dir, "shared.txt");
  if (failures > 0) return `${failures} of 60 writes failed`;
  if (!isWhole(text)) return "the final content is torn";
  const temps = (await names(dir)).filter((n) => n.endsWith(".atomic-tmp"));
  if (temps.length) return `temp files left: ${temps}`;
  return undefined;
}

async function terminatedWriter(): Promise<string | undefined> {
  const dir = await fresh("trap-terminated");
  await writeTextFile("target.txt", "old", { root: dir });
  const w = worker({ kind: "slow" });
  const started = reply(w);
  await started;
  w.terminate();
  if (await readText(dir, "target.txt") !== "old") return "target changed";
  // The dead worker's lock is released: a new write gets through.
  await writeTextFile("target.txt", "after", { root: dir });
  if (await readText(dir, "target.txt") !== "after") return "no write after";
  let left: string[] = [];
  for (let attempt = 0; attempt < 50; attempt++) {
    await cleanupTemps("/", { root: dir, olderThan: 0 }).catch(() => {});
    left = (await names(dir)).filter((n) => n.endsWith(".atomic-tmp"));
    if (left.length === 0) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return `cleanupTemps left ${left}`;
}

async function temps(dir: FileSystemDirectoryHandle): Promise<string[]> {
  return (await names(dir)).filter((n) => n.endsWith(".atomic-tmp"));
}

async function liveWriterElsewhere(): Promise<string | undefined> {
  const dir = await fresh("trap-live");
  await writeTextFile("target.txt", "old", { root: dir });
  const live = worker({ kind: "hold" });
  if (await reply(live) !== "holding") return "the worker did not hold";
  const held = await temps(dir);
  if (held.length !== 1) return `expected one pending temp: ${held}`;
  const removed = await cleanupTemps("/", { root: dir, olderThan: 0 });
  if (removed.length) return `removed a live writer's temp: ${removed}`;
  if ((await temps(dir)).join() !== held.join()) return "the temp file went";
  live.postMessage("commit");
  const committed = await reply(live);
  live.terminate();
  if (committed !== "committed") return String(committed);
  if (await readText(dir, "target.txt") !== "from the worker") {
    return "the commit did not land";
  }

  // A writer that is gone: its context died without any cleanup.
  const dead = worker({ kind: "hold" });
  if (await reply(dead) !== "holding") return "the second worker did not hold";
  dead.terminate();
  // Terminating a worker drops its locks soon, not at once: poll a little.
  for (let attempt = 0; attempt < 50; attempt++) {
    await cleanupTemps("/", { root: dir }); // default options: no olderThan
    if ((await temps(dir)).length === 0) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return `cleanupTemps left a dead writer's temp: ${await temps(dir)}`;
}

/**
 * A writer outside this library holds a writable on the target: Chromium and
 * Firefox make move() fail with NoModificationAllowedError, which is retried
 * until that writer closes (WebKit lets move() through at once).
 */
async function racingWriter(): Promise<string | undefined> {
  const dir = await fresh("trap-racing");
  await writeTextFile("target.txt", "old", { root: dir });
  const foreign = await (await dir.getFileHandle("target.txt"))
    .createWritable();
  await foreign.write("foreign");
  const ours = writeTextFile("target.txt", "ours", { root: dir });
  await new Promise((resolve) => setTimeout(resolve, 150));
  await foreign.close();
  await ours;
  const text = await readText(dir, "target.txt");
  if (text !== "ours" && text !== "foreign") return `target holds ${text}`;
  const temps = (await names(dir)).filter((n) => n.endsWith(".atomic-tmp"));
  if (temps.length) return `temp files left: ${temps}`;
  return undefined;
}

/** The root entry writes to OPFS in a shared worker as well. */
async function sharedWorker(): Promise<string | undefined> {
  const worker = new SharedWorker("./shared_worker.js", { type: "module" });
  const answer = await new Promise<string>((resolve) => {
    worker.port.onmessage = (event) => resolve(event.data);
    worker.port.start();
  });
  return answer === "browser: from a shared worker" ? undefined : answer;
}

async function quota(): Promise<string | undefined> {
  const dir = await fresh("trap-quota");
  await writeTextFile("target.txt", "old", { root: dir });
  const big = new Uint8Array(8 * 1024 * 1024).fill(65);
  try {
    await writeTextFile(
      "target.txt",
      (async function* () {
        for (let i = 0; i < 8; i++) yield new TextDecoder().decode(big);
      })(),
      { root: dir },
    );
    return "the write over the quota succeeded";
  } catch (error) {
    if (!(error instanceof AtomicWriteError)) {
      return `not an AtomicWriteError: ${error}`;
    }
    (globalThis as { quotaError?: string }).quotaError =
      `${error.step} ${error.code}: ${error.message}`;
    if (error.step !== "write") return `step ${error.step} (${error.message})`;
  }
  if (await readText(dir, "target.txt") !== "old") return "target changed";
  const temps = (await names(dir)).filter((n) => n.endsWith(".atomic-tmp"));
  if (temps.length) return `temp files left: ${temps}`;
  return undefined;
}

const suites: Record<
  string,
  Record<string, () => Promise<string | undefined>>
> = {
  traps: {
    "three contexts write one path 20 times each with locks": contention,
    "a worker terminated mid-write leaves the old content and a removable temp":
      terminatedWriter,
    "a racing writer outside the library is waited out": racingWriter,
    "cleanupTemps spares a live worker's temp and removes a dead one's":
      liveWriterElsewhere,
    "a shared worker writes through the root entry": sharedWorker,
  },
  quota: {
    "a write over the quota is a write error and keeps the old file": quota,
  },
};

const suite = new URL(location.href).searchParams.get("suite") ?? "traps";
const results: CaseResult[] = [];
for (const [name, run] of Object.entries(suites[suite])) {
  try {
    const problem = await run();
    results.push({
      name,
      status: problem ? "failed" : "passed",
      detail: problem,
    });
  } catch (error) {
    results.push({ name, status: "failed", detail: String(error) });
  }
}
await fetch("/results", {
  method: "POST",
  body: JSON.stringify({ [suite]: results }),
});
