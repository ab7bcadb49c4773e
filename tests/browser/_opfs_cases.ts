/**
 * The OPFS-applicable conformance cases, run in real browsers (page and
 * dedicated worker) by `tests/opfs_browsers_test.ts`. Each case gets a fresh
 * directory handle and writes through the `root` option; afterwards its
 * listing must hold no temp file.
 */

import {
  AtomicWriteError,
  cleanupTemps,
  detectRuntime,
  openAtomic,
  writeFile,
  writeTextFile,
} from "../../mod.ts";

/** The outcome of one case. */
export interface CaseResult {
  name: string;
  status: "passed" | "failed" | "skipped";
  detail?: string;
}

type Dir = FileSystemDirectoryHandle;

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`check failed: ${message}`);
}

async function handleOf(dir: Dir, path: string): Promise<FileSystemFileHandle> {
  const names = path.split("/");
  const name = names.pop()!;
  for (const part of names) dir = await dir.getDirectoryHandle(part);
  return await dir.getFileHandle(name);
}

async function readText(dir: Dir, path: string): Promise<string> {
  return await (await (await handleOf(dir, path)).getFile()).text();
}

async function readBytes(dir: Dir, path: string): Promise<Uint8Array> {
  return new Uint8Array(
    await (await (await handleOf(dir, path)).getFile()).arrayBuffer(),
  );
}

async function list(dir: Dir): Promise<string[]> {
  const names: string[] = [];
  for await (
    const name of (dir as Dir & { keys(): AsyncIterable<string> }).keys()
  ) {
    names.push(name);
  }
  return names.sort();
}

async function put(dir: Dir, name: string, text: string): Promise<void> {
  const file = await dir.getFileHandle(name, { create: true });
  const writable = await file.createWritable();
  await writable.write(text);
  await writable.close();
}

async function rejects(
  promise: Promise<unknown>,
  test: (error: unknown) => boolean,
  message: string,
): Promise<void> {
  try {
    await promise;
  } catch (error) {
    check(test(error), `${message}: got ${error}`);
    return;
  }
  throw new Error(`check failed: ${message}: no error`);
}

const isStep = (step: string, code?: string) => (error: unknown) =>
  error instanceof AtomicWriteError && error.step === step &&
  (code === undefined || error.code === code);

function stalled(error?: Error) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  let started!: () => void;
  const firstTaken = new Promise<void>((resolve) => started = resolve);
  async function* chunks() {
    yield "new, part one";
    started();
    await released;
    if (error) throw error;
    yield ", part two";
  }
  return { chunks: chunks(), release, firstTaken };
}

interface Case {
  name: string;
  run(root: Dir): Promise<void>;
}

const encoder = new TextEncoder();

/** Progress inside a case (set by runCases). */
let note: (message: string) => void = () => {};

const cases: Case[] = [
  {
    name: "the runtime is detected as a browser",
    run() {
      check(detectRuntime() === "browser", detectRuntime());
      return Promise.resolve();
    },
  },
  {
    name: "writes every data type byte-exact",
    async run(root) {
      const buffer = new ArrayBuffer(32);
      new Uint8Array(buffer).forEach((_, i, a) => a[i] = i * 9);
      const views: ArrayBufferView[] = [
        new Uint16Array(buffer, 2, 5),
        new Float64Array(buffer, 8, 2),
        new DataView(buffer, 3, 11),
      ];
      for (const view of views) {
        await writeFile("v.bin", view, { root });
        const expected = new Uint8Array(
          view.buffer,
          view.byteOffset,
          view.byteLength,
        );
        check(
          String(await readBytes(root, "v.bin")) === String(expected),
          view.constructor.name,
        );
      }
      await writeFile("s.txt", "héllo 👋", { root });
      check(await readText(root, "s.txt") === "héllo 👋", "string");
      await writeFile("b.bin", new Blob(["blob", new Uint8Array([33])]), {
        root,
      });
      check(await readText(root, "b.bin") === "blob!", "blob");
      const stream = new ReadableStream({
        start(c) {
          c.enqueue("a");
          c.enqueue(encoder.encode("b"));
          c.close();
        },
      });
      await writeFile("st.txt", stream, { root });
      check(await readText(root, "st.txt") === "ab", "stream");
      await writeTextFile("e.txt", "", { root });
      check((await readBytes(root, "e.txt")).length === 0, "empty");
    },
  },
  {
    name: "replaces an existing file whole",
    async run(root) {
      await put(root, "t.txt", "old content that is longer");
      await writeTextFile("t.txt", "new", { root });
      check(await readText(root, "t.txt") === "new", "content");
    },
  },
  {
    name: "a target that is a directory is refused before move() and survives",
    async run(root) {
      const sub = await root.getDirectoryHandle("folder", { create: true });
      await put(sub, "inside.txt", "keep");
      await rejects(
        writeTextFile("folder", "x", { root }),
        isStep("resolve", "EISDIR"),
        "EISDIR",
      );
      check(await readText(sub, "inside.txt") === "keep", "directory kept");
    },
  },
  {
    name: "invalid names are TypeErrors before anything is touched",
    async run(root) {
      for (const path of ["", ".", "..", "a/../b", "a\\b", "x//y"]) {
        await rejects(
          writeTextFile(path, "x", { root }),
          (e) => e instanceof TypeError,
          JSON.stringify(path),
        );
      }
      for (const path of [null, undefined, 42]) {
        await rejects(
          writeTextFile(path as unknown as string, "x", { root }),
          (e) => e instanceof TypeError,
          String(path),
        );
      }
      check((await list(root)).length === 0, "nothing created");
    },
  },
  {
    name: "a missing parent is an error unless createParents",
    async run(root) {
      await rejects(
        writeTextFile("a/b/c.txt", "x", { root }),
        isStep("resolve", "ENOENT"),
        "ENOENT",
      );
      await writeTextFile("a/b/c.txt", "deep", { root, createParents: true });
      check(await readText(root, "a/b/c.txt") === "deep", "created");
    },
  },
  {
    name: "options that cannot apply in a browser are errors",
    async run(root) {
      await rejects(
        writeTextFile("x", "x", { root, mode: 0o600 }),
        (e) => e instanceof TypeError,
        "mode",
      );
      await rejects(
        writeTextFile("x", "x", { root, chown: { uid: 1, gid: 1 } }),
        (e) => e instanceof TypeError,
        "chown",
      );
      await rejects(
        writeTextFile("x", "x", { root, durability: "full" }),
        (e) => e instanceof TypeError,
        "durability",
      );
      await writeTextFile("x", "ok", { root, durability: "none" });
      check(await readText(root, "x") === "ok", "none works");
    },
  },
  {
    name: "an abort before and during the write keeps the old file",
    async run(root) {
      await put(root, "t.txt", "old");
      const before = new AbortController();
      before.abort(new Error("early"));
      await rejects(
        writeTextFile("t.txt", "new", { root, signal: before.signal }),
        (e) => String(e).includes("early"),
        "before",
      );
      const during = new AbortController();
      const { chunks, release, firstTaken } = stalled();
      const writing = writeFile("t.txt", chunks, {
        root,
        signal: during.signal,
      });
      await firstTaken;
      check(await readText(root, "t.txt") === "old", "old while writing");
      during.abort(new Error("late"));
      release();
      await rejects(writing, (e) => String(e).includes("late"), "during");
      check(await readText(root, "t.txt") === "old", "old kept");
    },
  },
  {
    name: "an input stream failing midway keeps the old file",
    async run(root) {
      await put(root, "t.txt", "old");
      const { chunks, release, firstTaken } = stalled(
        new Error("broken source"),
      );
      const writing = writeFile("t.txt", chunks, { root });
      await firstTaken;
      release();
      await rejects(writing, isStep("data"), "data step");
      check(await readText(root, "t.txt") === "old", "old kept");
    },
  },
  {
    name:
      "openAtomic keeps the old content readable until commit; discard drops it",
    async run(root) {
      await put(root, "doc.txt", "one\ntwo\n");
      const file = await openAtomic("doc.txt", { root });
      note("opened");
      for (const line of (await readText(root, "doc.txt")).split("\n")) {
        await file.write(line.toUpperCase() + (line ? "\n" : ""));
      }
      check(
        await readText(root, "doc.txt") === "one\ntwo\n",
        "old until commit",
      );
      note("written");
      await file.commit();
      note("committed");
      check(await readText(root, "doc.txt") === "ONE\nTWO\n", "committed");
      {
        await using dropped = await openAtomic("doc.txt", { root });
        await dropped.write("never");
        note("second written");
      }
      note("disposed");
      check(await readText(root, "doc.txt") === "ONE\nTWO\n", "discarded");
    },
  },
  {
    name: "append, ordering and coalescing",
    async run(root) {
      await put(root, "log.txt", "a");
      await writeTextFile("log.txt", "b", { root, append: true });
      check(await readText(root, "log.txt") === "ab", "append");
      await Promise.all(
        Array.from(
          { length: 20 },
          (_, i) => writeTextFile("o.txt", `${i}`, { root }),
        ),
      );
      check(await readText(root, "o.txt") === "19", "call order");
      await Promise.all(
        Array.from(
          { length: 50 },
          (_, i) => writeTextFile("c.txt", `${i}`, { root, coalesce: true }),
        ),
      );
      check(await readText(root, "c.txt") === "49", "coalesced");
    },
  },
  {
    name: "cleanupTemps removes only stale temp files",
    async run(root) {
      await put(root, ".d.json.0123456789abcdef.atomic-tmp", "x");
      await put(root, "keep.tmp", "x");
      const removed = await cleanupTemps("/", { root, olderThan: 0 });
      check(
        removed.length === 1 && removed[0].endsWith(".atomic-tmp"),
        String(removed),
      );
      check((await list(root)).join() === "keep.tmp", "foreign file kept");
    },
  },
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
    note = (message) => progress(`${context}: ${testCase.name}: ${message}`);
    try {
      await testCase.run(root);
      const temps = (await list(root)).filter((n) => n.endsWith(".atomic-tmp"));
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
