/**
 * The smoke case for every bundle of the package (`_browser_bundles.ts`):
 * the bundle loads (it parses in this engine), and writes, reads back,
 * replaces, fails with its own `AtomicWriteError` and cleans up a dead
 * writer's temp file in OPFS.
 */

import type { CaseResult } from "./_opfs_cases.ts";

type Library = typeof import("@atomic-write/atomic-write/opfs");
type Dir = FileSystemDirectoryHandle;

async function read(dir: Dir, name: string): Promise<string> {
  return await (await (await dir.getFileHandle(name)).getFile()).text();
}

async function names(dir: Dir): Promise<string[]> {
  const result: string[] = [];
  for await (
    const name of (dir as Dir & { keys(): AsyncIterable<string> }).keys()
  ) result.push(name);
  return result.sort();
}

function expect(actual: unknown, expected: unknown): void {
  if (actual !== expected) throw new Error(`got ${actual}, not ${expected}`);
}

/** Loads the bundle at `url` and runs the smoke steps in `context`. */
export async function smoke(
  url: string,
  context: string,
): Promise<CaseResult[]> {
  const lib = await import(url) as Library;
  const opfs = await navigator.storage.getDirectory();
  const name = `smoke-${context}-${url.replace(/\W+/g, "-")}`;
  await opfs.removeEntry(name, { recursive: true }).catch(() => {});
  const root = await opfs.getDirectoryHandle(name, { create: true });
  // A temp name as a writer that died (its Web Lock is gone) leaves it.
  const deadTemp = ".note.txt.web-lock.0123456789abcdef.atomic-tmp";
  const steps: Record<string, () => Promise<void>> = {
    "writeTextFile, then read back": async () => {
      await lib.writeTextFile("note.txt", "one", { root });
      expect(await read(root, "note.txt"), "one");
    },
    "writeFile replaces the file": async () => {
      await lib.writeFile("note.txt", new TextEncoder().encode("two"), {
        root,
      });
      expect(await read(root, "note.txt"), "two");
    },
    "createNew over an existing file rejects with its AtomicWriteError":
      async () => {
        const error = await lib.writeTextFile("note.txt", "x", {
          root,
          createNew: true,
        }).then(() => undefined, (error) => error);
        expect(error instanceof lib.AtomicWriteError, true);
        expect(await read(root, "note.txt"), "two");
      },
    "cleanupTemps removes a dead writer's temp file": async () => {
      const temp = await root.getFileHandle(deadTemp, { create: true });
      const writable = await temp.createWritable();
      await writable.write("partial");
      await writable.close();
      const removed = await lib.cleanupTemps("/", { root });
      expect(removed.length, 1);
      expect((await names(root)).join(), "note.txt");
    },
  };
  const results: CaseResult[] = [];
  for (const [step, run] of Object.entries(steps)) {
    try {
      await run();
      results.push({ name: step, status: "passed" });
    } catch (error) {
      results.push({ name: step, status: "failed", detail: String(error) });
    }
  }
  await opfs.removeEntry(name, { recursive: true }).catch(() => {});
  return results;
}
