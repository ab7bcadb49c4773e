/**
 * Browser-crash page, in two phases driven by `opfs_browsers_test.ts`:
 * - `?phase=write`: commits "old", then starts writes that never end: one
 *   replacing that existing file (through its own `createWritable()` where
 *   the engine takes it), one creating a new file (through a temp file); and
 *   saves whole versions of a third file in a loop, and of a fourth in a
 *   loop in a dedicated worker (`_crash_worker.ts`). Then it reports; the
 *   driver SIGKILLs the whole browser while the loops run, so the kill lands
 *   at any point of a save.
 * - `?phase=check` (relaunched on the same profile and origin): the target
 *   must hold "old", the new file must not exist, the looped files must hold
 *   one whole version each, and `cleanupTemps` must remove this library's
 *   temp files.
 */

import { cleanupTemps, writeTextFile } from "@atomic-write/atomic-write/opfs";
import { isWholeLoopedVersion, loopedVersion } from "./_version_text.ts";

const query = new URL(location.href).searchParams;
const phase = query.get("phase");
/**
 * Engines seen to leave the looped file EMPTY after some kills, with and
 * without a temp file and move (README "In the browser"): there an empty
 * file is reported, not failed; a torn one always fails.
 */
const EMPTIES_SEEN = new Set(["firefox"]);
const opfs = await navigator.storage.getDirectory();
const dir = await opfs.getDirectoryHandle("crash", { create: true });

async function names(): Promise<string[]> {
  const result: string[] = [];
  for await (
    const name of (dir as FileSystemDirectoryHandle & {
      keys(): AsyncIterable<string>;
    }).keys()
  ) result.push(name);
  return result.sort();
}

const post = (results: unknown) =>
  fetch("/results", { method: "POST", body: JSON.stringify(results) });

/** A write whose data never ends; `started` once its first chunk is taken. */
function endless(started: () => void) {
  return (async function* () {
    yield "new, part one, ".repeat(10_000);
    started();
    await new Promise(() => {});
  })();
}

/** The check of one looped file. */
function loopResult(
  context: string,
  name: string,
  text: string,
  listing: string[],
) {
  const emptyAllowed = EMPTIES_SEEN.has(query.get("engine")!);
  return {
    name: emptyAllowed
      ? `a browser kill during a loop of saves in a ${context} leaves one whole version, or (an engine limit) an empty file`
      : `a browser kill during a loop of saves in a ${context} leaves one whole version`,
    status: isWholeLoopedVersion(text) || (text === "" && emptyAllowed)
      ? "passed"
      : "failed",
    detail: text === ""
      ? `${name} is EMPTY; left in the directory: ${listing}`
      : `${name}: ${text.length} characters, version ${
        text.slice(0, text.indexOf(":"))
      }; left in the directory: ${listing}`,
  };
}

if (phase === "write") {
  await writeTextFile("target.txt", "old", { root: dir });
  await writeTextFile("looped.txt", loopedVersion(0), { root: dir });
  await writeTextFile("looped-worker.txt", loopedVersion(0), { root: dir });
  const replacing = new Promise<void>((started) => {
    writeTextFile("target.txt", endless(started), { root: dir }).catch(
      () => {},
    );
  });
  const creating = new Promise<void>((started) => {
    writeTextFile("fresh.txt", endless(started), { root: dir }).catch(
      () => {},
    );
  });
  await Promise.all([replacing, creating]);
  const worker = new Worker("./crash_worker.js", { type: "module" });
  const workerSaved = new Promise<string>((said) => {
    worker.onmessage = (event) => said(event.data);
    worker.onerror = (event) => said(`failed: ${event.message}`);
  });
  worker.postMessage("loop");
  let saved = 0;
  let failed: unknown;
  (async () => {
    for (let n = 1;; n++) {
      await writeTextFile("looped.txt", loopedVersion(n), { root: dir });
      saved = n;
    }
  })().catch((error) => failed = error);
  const said = await workerSaved;
  while (saved < 3 && !failed) {
    await new Promise((wake) => setTimeout(wake, 1));
  }
  await post({
    write: [{
      name: "writes started",
      status: said === "saved" && !failed ? "passed" : "failed",
      detail: `worker: ${said}; page: ${failed ?? `saved ${saved}`}`,
    }],
  });
} else {
  // Each step is logged: a step that never settles shows in the timeout.
  const log = (step: string) =>
    fetch("/log", { method: "POST", body: step }).catch(() => {});
  const read = async (name: string) => {
    await log(`read ${name}`);
    return await (await (await dir.getFileHandle(name)).getFile()).text();
  };
  const target = await read("target.txt");
  const looped = await read("looped.txt");
  const loopedInWorker = await read("looped-worker.txt");
  const fresh = await dir.getFileHandle("fresh.txt").then(
    () => "exists",
    (error) => error.name,
  );
  await log("list");
  const before = await names();
  await log(`cleanupTemps of ${before}`);
  const removed = await cleanupTemps("/", { root: dir, olderThan: 0 });
  await log("cleaned");
  const after = await names();
  // What the engine says about a temp file cleanupTemps could not remove.
  const diagnosis: string[] = [];
  for (const name of after.filter((n) => n.endsWith(".atomic-tmp"))) {
    await dir.getFileHandle(name).then(
      (h) =>
        h.getFile().then(
          () => diagnosis.push("readable"),
          (e) => diagnosis.push(`getFile: ${e}`),
        ),
      (e) => diagnosis.push(`getFileHandle: ${e}`),
    );
    await dir.removeEntry(name).then(
      () => diagnosis.push("removeEntry ok"),
      (e) => diagnosis.push(`removeEntry: ${e}`),
    );
  }
  const ours = after.filter((n) => n.endsWith(".atomic-tmp"));
  await post({
    check: [
      {
        name: "after a browser kill the target holds the old content",
        status: target === "old" ? "passed" : "failed",
        detail: `target: ${target.slice(0, 40)}`,
      },
      {
        name:
          "after a browser kill a file never written to completion is absent",
        status: fresh === "NotFoundError" ? "passed" : "failed",
        detail: `fresh.txt: ${fresh}`,
      },
      loopResult("page", "looped.txt", looped, before),
      loopResult("worker", "looped-worker.txt", loopedInWorker, before),
      {
        name: "cleanupTemps removes the temp file the kill left",
        status: ours.length === 0 ? "passed" : "failed",
        detail:
          `before ${before}; removed ${removed}; after ${after}; ${diagnosis}`,
      },
    ],
  });
}
