/**
 * Browser-crash page, in two phases driven by `opfs_browsers_test.ts`:
 * - `?phase=write`: commits "old", then starts a write that never ends and
 *   reports; the driver then SIGKILLs the whole browser.
 * - `?phase=check` (relaunched on the same profile and origin): the target
 *   must hold "old"; `cleanupTemps` must remove this library's temp files.
 */

import { cleanupTemps, writeTextFile } from "@atomic-write/atomic-write/opfs";

const phase = new URL(location.href).searchParams.get("phase");
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

if (phase === "write") {
  await writeTextFile("target.txt", "old", { root: dir });
  writeTextFile(
    "target.txt",
    (async function* () {
      yield "new, part one, ".repeat(10_000);
      await post({ write: [{ name: "write started", status: "passed" }] });
      await new Promise(() => {});
    })(),
    { root: dir },
  ).catch(() => {});
} else {
  const target = await (await (await dir.getFileHandle("target.txt")).getFile())
    .text();
  const before = await names();
  const removed = await cleanupTemps("/", { root: dir, olderThan: 0 });
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
        name: "cleanupTemps removes the temp file the kill left",
        status: ours.length === 0 ? "passed" : "failed",
        detail:
          `before ${before}; removed ${removed}; after ${after}; ${diagnosis}`,
      },
    ],
  });
}
