/**
 * Runs the portable conformance cases (`../_portable_cases.ts`) on OPFS in a
 * real browser, page or dedicated worker, through the installed package's
 * root entry as a browser bundler resolves it (its `browser` condition; the
 * test server serves that bundle, see `opfs_browsers_test.ts`). Each case gets a fresh directory handle and writes
 * through the `root` option; afterwards its listing must hold no temp file.
 */

import * as api from "@atomic-write/atomic-write";
import {
  check,
  type Disk,
  type PortableCase,
  portableCases,
  rejects,
  stalled,
} from "../_portable_cases.ts";

/** The outcome of one case. */
export interface CaseResult {
  name: string;
  status: "passed" | "failed" | "skipped";
  detail?: string;
}

type Dir = FileSystemDirectoryHandle;

async function fileOf(dir: Dir, path: string): Promise<FileSystemFileHandle> {
  const names = path.split("/");
  const name = names.pop()!;
  for (const part of names) dir = await dir.getDirectoryHandle(part);
  return await dir.getFileHandle(name);
}

/** A `Disk` over an OPFS directory handle. */
function opfsDisk(root: Dir): Disk {
  return {
    backend: "opfs",
    path: (name) => name,
    directory: "/",
    options: { root },
    readText: async (name) =>
      await (await (await fileOf(root, name)).getFile()).text(),
    readBytes: async (name) =>
      new Uint8Array(
        await (await (await fileOf(root, name)).getFile()).arrayBuffer(),
      ),
    list: async () => {
      const names: string[] = [];
      for await (
        const name of (root as Dir & { keys(): AsyncIterable<string> }).keys()
      ) {
        names.push(name);
      }
      return names.sort();
    },
    put: async (name, text) => {
      const parts = name.split("/");
      const last = parts.pop()!;
      let dir = root;
      for (const part of parts) dir = await dir.getDirectoryHandle(part);
      const writable = await (await dir.getFileHandle(last, { create: true }))
        .createWritable();
      await writable.write(text);
      await writable.close();
    },
    makeDirectory: async (name) => {
      await root.getDirectoryHandle(name, { create: true });
    },
  };
}

/** OPFS's own cases: the backend caches directory handles and checks late. */
const opfsCases: PortableCase[] = [
  {
    name: "a directory removed and made again between saves is written anew",
    async run({ api, disk }) {
      const { root } = disk.options as { root: Dir };
      const save = (text: string, createParents = false) =>
        api.writeTextFile("d/x.txt", text, { root, createParents });
      await save("one", true);
      await root.removeEntry("d", { recursive: true });
      await save("two", true);
      check(await disk.readText("d/x.txt") === "two", "after createParents");
      await root.removeEntry("d", { recursive: true });
      await root.getDirectoryHandle("d", { create: true });
      await save("three");
      check(await disk.readText("d/x.txt") === "three", "in the new directory");
      await root.removeEntry("d", { recursive: true });
      let error: unknown;
      await save("four").catch((caught) => error = caught);
      check(
        (error as { code?: string })?.code === "ENOENT",
        `a removed directory is missing: ${error}`,
      );
    },
  },
  {
    name:
      "an existing file is replaced through its own createWritable() in Chromium and Firefox: no temp file, no move",
    async run({ api, disk }) {
      // WebKit keeps a temp file and its move (see the OPFS backend).
      const movesAlways = !navigator.userAgent.includes("Chrome") &&
        !navigator.userAgent.includes("Firefox");
      const { root } = disk.options as { root: Dir };
      const prototype = FileSystemFileHandle.prototype as unknown as {
        move(this: FileSystemFileHandle, ...args: unknown[]): Promise<void>;
      };
      const move = prototype.move;
      let moves = 0;
      prototype.move = function (...args) {
        moves++;
        return move.apply(this, args);
      };
      // Saves made, and how many of them replace without a move.
      let saves = 0;
      let replaced = 0;
      const saved = (message: string, replacesInPlace: boolean) => {
        saves++;
        if (replacesInPlace && !movesAlways) replaced++;
        check(
          moves === saves - replaced,
          `${message}: ${moves} moves after ${saves} saves`,
        );
      };
      try {
        await api.writeTextFile("t.txt", "one", { root });
        saved("a new file is written aside and moved", false);
        await api.writeTextFile("t.txt", "two", { root });
        saved("an existing file is not moved", true);
        check(await disk.readText("t.txt") === "two", "replaced");
        await api.writeTextFile("t.txt", "+", { root, append: true });
        saved("an append copies into a temp file", false);
        check(await disk.readText("t.txt") === "two+", "appended");
        if ("document" in globalThis) {
          // A page replaces through the target at any size, streams too.
          const big = new Uint8Array(2 ** 20).fill(7);
          await api.writeFile("t.txt", big, { root });
          saved("1 MiB in a page is not moved", true);
          const { chunks, release, firstTaken } = stalled();
          const writing = api.writeFile("t.txt", chunks, { root });
          await firstTaken;
          const names = await disk.list();
          check(
            movesAlways ||
              !names.some((name) => name.endsWith(".atomic-tmp")),
            `no temp file while writing: ${names}`,
          );
          check(
            (await disk.readBytes("t.txt")).length === 2 ** 20,
            "the old content until close",
          );
          release();
          await writing;
          saved("a stream is not moved", true);
          check(
            await disk.readText("t.txt") === "new, part one, part two",
            "the stream's content",
          );
        } else {
          // A worker writes large data faster through a sync access handle
          // on a temp file (Chromium, Firefox; WebKit has none).
          const big = new Uint8Array(2 ** 20).fill(7);
          await api.writeFile("t.txt", big, { root });
          saved("1 MiB in a worker is written aside and moved", false);
          check((await disk.readBytes("t.txt")).length === 2 ** 20, "1 MiB");
        }
        // An aborted replacement keeps the old file and releases its lock:
        // the next save of the same file runs.
        const during = new AbortController();
        const { chunks, release, firstTaken } = stalled();
        const before = await disk.readText("t.txt");
        const writing = api.writeFile("t.txt", chunks, {
          root,
          signal: during.signal,
        });
        await firstTaken;
        during.abort(new Error("stop"));
        release();
        await rejects(writing, (e) => String(e).includes("stop"), "aborted");
        check(await disk.readText("t.txt") === before, "old kept on abort");
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          api.writeTextFile("t.txt", "after", { root }),
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new Error("the lock was not released")),
              5_000,
            );
          }),
        ]).finally(() => clearTimeout(timer));
        check(await disk.readText("t.txt") === "after", "written after");
        const names = await disk.list();
        check(
          names.length === 1 && names[0] === "t.txt",
          `nothing but the file is left: ${names}`,
        );
      } finally {
        prototype.move = move;
      }
    },
  },
  {
    name:
      "a save that looked the file up before another writer's move() still replaces the file the path names",
    async run({ api, disk }) {
      // A replace looks the target up while it waits for the target's Web
      // Lock. Holding that lock, this case replaces the file by a move (what
      // an append or a WebKit save does); the waiting save must then write
      // the file now at that path, not the one it looked up.
      const { root } = disk.options as { root: Dir };
      await disk.put("t.txt", "one");
      const opfs = await navigator.storage.getDirectory();
      const prefix = `/${((await opfs.resolve(root)) ?? []).join("/")}`;
      let release!: () => void;
      const held = new Promise<void>((granted) => {
        navigator.locks.request(
          `atomic-write:${prefix}/t.txt`,
          () =>
            new Promise<void>((resolve) => {
              release = resolve;
              granted();
            }),
        );
      });
      await held;
      const saving = api.writeTextFile("t.txt", "mine", { root });
      // Time for its stat and lookup (about 1 ms each here).
      await new Promise((wake) => setTimeout(wake, 100));
      await disk.put("u.txt", "theirs");
      const moved = await root.getFileHandle("u.txt") as
        & FileSystemFileHandle
        & {
          move(directory: Dir, name: string): Promise<void>;
        };
      await moved.move(root, "t.txt");
      check(await disk.readText("t.txt") === "theirs", "moved in");
      release();
      await saving;
      check(await disk.readText("t.txt") === "mine", "the waiting save wins");
      const names = await disk.list();
      check(names.join() === "t.txt", `nothing else is left: ${names}`);
    },
  },
  {
    name: "a directory made at the target during a save is refused and kept",
    async run({ api, disk }) {
      const { root } = disk.options as { root: Dir };
      const file = await api.openAtomic("t", { root });
      await file.write("x");
      const made = await root.getDirectoryHandle("t", { create: true });
      await (await made.getFileHandle("inside.txt", { create: true }))
        .createWritable().then((writable) => writable.close());
      let error: unknown;
      await file.commit().catch((caught) => error = caught);
      check(
        (error as { code?: string })?.code === "EISDIR",
        `EISDIR: ${error}`,
      );
      await (await root.getDirectoryHandle("t")).getFileHandle("inside.txt");
    },
  },
];

const cases = [
  {
    name: "the runtime is detected as a browser",
    only: undefined,
    run: () => {
      check(api.detectRuntime() === "browser", api.detectRuntime());
      return Promise.resolve();
    },
  },
  ...portableCases,
  ...opfsCases,
];

/** Runs every case in a fresh directory under `atomic-write-cases/`. */
export async function runCases(
  context: string,
  progress: (message: string) => void = () => {},
): Promise<CaseResult[]> {
  const opfs = await navigator.storage.getDirectory();
  const base = await opfs.getDirectoryHandle(`cases-${context}`, {
    create: true,
  });
  const results: CaseResult[] = [];
  for (const [index, testCase] of cases.entries()) {
    const root = await base.getDirectoryHandle(`case-${index}`, {
      create: true,
    });
    progress(`${context}: ${testCase.name}`);
    try {
      const disk = opfsDisk(root);
      await testCase.run({ api, disk });
      const temps = (await disk.list()).filter((n) =>
        n.endsWith(".atomic-tmp")
      );
      check(temps.length === 0, `temp files left: ${temps}`);
      results.push({ name: testCase.name, status: "passed" });
    } catch (error) {
      results.push({
        name: testCase.name,
        status: "failed",
        detail: `${error}\n${(error as Error)?.stack ?? ""}`,
      });
    }
    await base.removeEntry(`case-${index}`, { recursive: true }).catch(
      () => {},
    );
  }
  return results;
}
