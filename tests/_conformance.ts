/**
 * THE conformance suite, written once and run against every backend in every
 * runtime (see `conformance_test.ts`), on the real file system.
 *
 * Cases marked `atomicity` are also run against a deliberately in-place
 * backend (`negative_control_test.ts`), where they must fail.
 */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import type { Backend, Primitives } from "../src/_backend.ts";
import { AtomicWriteError } from "../src/errors.ts";
import { type Disk, portableCases } from "./_portable_cases.ts";
import {
  IS_ROOT,
  leftoverTemps,
  makeTempDir,
  nameWithSkipReason,
  readBytes,
  rejectsWith,
  ROOT,
  run,
  RUNTIME,
  scriptCommand,
  type Subject,
  subjectFor,
} from "./_helpers.ts";

/** One conformance case. */
export interface Case {
  name: string;
  /** The case checks atomicity: an in-place write must make it fail. */
  atomicity?: boolean;
  /** A reason to skip, shown in the test output, or undefined to run. */
  skip?: (subject: Subject) => string | undefined;
  /** Per-case time limit in ms (default: the runner's). */
  timeout?: number;
  run(subject: Subject, dir: string): Promise<void>;
}

const encoder = new TextEncoder();
const text = (file: string) => fs.readFileSync(file, "utf8");
const modeOf = (file: string) => fs.statSync(file).mode & 0o7777;

/** A target holding "old", so every failure case can check it stays. */
function oldTarget(dir: string, name = "target.txt"): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, "old");
  return file;
}

/**
 * The backend with `name` observed after each successful call, in both its
 * synchronous and asynchronous forms (the asynchronous path makes metadata
 * calls with the synchronous primitives).
 */
function observing<K extends keyof Primitives>(
  backend: Backend,
  name: K,
  observe: (args: Parameters<NonNullable<Primitives[K]>>) => void,
): Backend {
  type Call = (...args: Parameters<NonNullable<Primitives[K]>>) => unknown;
  const syncCall = backend.sync?.[name] as Call | undefined;
  const asyncCall = backend.async[name] as Call;
  return {
    ...backend,
    sync: backend.sync && {
      ...backend.sync,
      [name]: (...args: Parameters<NonNullable<Primitives[K]>>) => {
        const result = syncCall!(...args);
        observe(args);
        return result;
      },
    },
    async: {
      ...backend.async,
      [name]: async (...args: Parameters<NonNullable<Primitives[K]>>) => {
        const result = await asyncCall(...args);
        observe(args);
        return result;
      },
    },
  };
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** Every typed array kind, each viewed at an offset into a larger buffer. */
function typedArrays(): ArrayBufferView[] {
  const buffer = new ArrayBuffer(64);
  new Uint8Array(buffer).forEach((_, i, a) => a[i] = (i * 37 + 11) & 255);
  return [
    new Int8Array(buffer, 3, 9),
    new Uint8Array(buffer, 1, 7),
    new Uint8ClampedArray(buffer, 2, 5),
    new Int16Array(buffer, 2, 5),
    new Uint16Array(buffer, 4, 6),
    new Int32Array(buffer, 4, 3),
    new Uint32Array(buffer, 8, 4),
    new Float32Array(buffer, 12, 3),
    new Float64Array(buffer, 16, 3),
    new BigInt64Array(buffer, 8, 2),
    new BigUint64Array(buffer, 24, 4),
    new DataView(buffer, 5, 17),
  ];
}

function streamOf(chunks: (Uint8Array | string)[]): ReadableStream {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

/** A stream that yields one chunk, then waits for `release`, then errors. */
function stalledStream(error?: Error) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  let started!: () => void;
  const firstChunkTaken = new Promise<void>((resolve) => started = resolve);
  async function* chunks() {
    yield "new content, part one";
    started();
    await released;
    if (error) throw error;
    yield ", part two";
  }
  return { chunks: chunks(), release, firstChunkTaken };
}

const skipUnlessRoot = () => IS_ROOT ? undefined : "needs root";

/** The cases, in the order they run. */
export const cases: Case[] = [
  // ---------------------------------------------------------------- data
  {
    name: "writes a UTF-8 string byte-exact",
    async run({ api }, dir) {
      const file = path.join(dir, "a.txt");
      const value = "héllo wörld 👋 \u0000 end";
      await api.writeFile(file, value);
      assert.deepEqual(readBytes(file), encoder.encode(value));
    },
  },
  {
    name: "writes an ArrayBuffer and every typed array and DataView byte-exact",
    async run({ api }, dir) {
      const buffer = new Uint8Array([1, 2, 3, 250]).buffer;
      await api.writeFile(path.join(dir, "buffer"), buffer);
      assert.deepEqual(
        readBytes(path.join(dir, "buffer")),
        new Uint8Array(buffer),
      );
      for (const [index, view] of typedArrays().entries()) {
        const file = path.join(dir, `view-${index}`);
        await api.writeFile(file, view);
        assert.deepEqual(readBytes(file), bytesOf(view), view.constructor.name);
        api.writeFileSync(file, view);
        assert.deepEqual(readBytes(file), bytesOf(view), view.constructor.name);
      }
    },
  },
  {
    name: "writes a Blob and a File",
    async run({ api }, dir) {
      const file = path.join(dir, "blob");
      const bytes = new Uint8Array(100_000).map((_, i) => i * 7);
      await api.writeFile(file, new Blob([bytes, "tail"]));
      assert.deepEqual(
        readBytes(file),
        new Uint8Array([...bytes, ...encoder.encode("tail")]),
      );
      await api.writeFile(file, new File(["file content"], "x.txt"));
      assert.equal(text(file), "file content");
    },
  },
  {
    name:
      "writes streams and iterables of mixed chunks, keeping split characters whole",
    async run({ api }, dir) {
      const file = path.join(dir, "stream");
      const [high, low] = ["\ud83d", "\udc4b"]; // 👋 split in two chunks
      const chunks = ["a", new Uint8Array([66, 67]), `x${high}`, `${low}y`];
      const expected = encoder.encode("aBCx👋y");
      await api.writeFile(file, streamOf(chunks));
      assert.deepEqual(readBytes(file), expected);
      await api.writeFile(file, chunks);
      assert.deepEqual(readBytes(file), expected);
      await api.writeFile(
        file,
        (async function* () {
          yield* chunks;
        })(),
      );
      assert.deepEqual(readBytes(file), expected);
      await api.writeTextFile(file, streamOf(["only ", "text"]));
      assert.equal(text(file), "only text");
      api.writeTextFileSync(file, ["sync ", "text"]);
      assert.equal(text(file), "sync text");
    },
  },
  {
    name: "writes empty data as an empty file",
    async run({ api }, dir) {
      const file = oldTarget(dir);
      await api.writeFile(file, new Uint8Array(0));
      assert.equal(fs.statSync(file).size, 0);
      fs.writeFileSync(file, "old");
      api.writeFileSync(file, "");
      assert.equal(fs.statSync(file).size, 0);
    },
  },
  {
    name: "writes 256 MiB in one call",
    timeout: 120_000,
    async run({ api }, dir) {
      const file = path.join(dir, "big");
      const size = 256 * 1024 * 1024;
      const data = new Uint8Array(size);
      const view = new Uint32Array(data.buffer);
      for (let i = 0; i < view.length; i++) view[i] = i * 2654435761;
      await api.writeFile(file, data, { durability: "file" });
      assert.equal(fs.statSync(file).size, size);
      assert.ok(Buffer.from(data).equals(fs.readFileSync(file)), "content");
    },
  },
  {
    name: "streams 1 GiB with bounded memory",
    timeout: 300_000,
    async run({ api }, dir) {
      const file = path.join(dir, "huge");
      const chunkSize = 1024 * 1024;
      const chunks = 1024;
      const chunk = new Uint8Array(chunkSize);
      const before = process.memoryUsage().rss;
      let peak = before;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 10);
      async function* source() {
        for (let i = 0; i < chunks; i++) {
          // The protocol writes a chunk before pulling the next one, so one
          // buffer can be reused: only the stamp changes.
          new DataView(chunk.buffer).setUint32(0, i);
          peak = Math.max(peak, process.memoryUsage().rss);
          yield chunk;
        }
      }
      try {
        await api.writeFile(file, source(), { durability: "file" });
      } finally {
        clearInterval(sampler);
      }
      const growth = (peak - before) / (1024 * 1024);
      console.log(`1 GiB stream: peak RSS growth ${growth.toFixed(1)} MiB`);
      assert.equal(fs.statSync(file).size, chunkSize * chunks);
      const fd = fs.openSync(file, "r");
      const stamp = Buffer.alloc(4);
      for (const i of [0, 1, 511, 1023]) {
        fs.readSync(fd, stamp, 0, 4, i * chunkSize);
        assert.equal(stamp.readUInt32BE(0), i);
      }
      fs.closeSync(fd);
      assert.ok(growth < 64, `peak RSS growth ${growth.toFixed(1)} MiB`);
    },
  },
  // ---------------------------------------------------- mode and owner
  {
    name: "creates a new file with 0o666 filtered by the umask",
    skip: ({ backend }) => backend.capabilities.mode ? undefined : "no modes",
    async run({ api }, dir) {
      const file = path.join(dir, "new");
      const umask = process.umask();
      await api.writeFile(file, "x");
      assert.equal(modeOf(file), 0o666 & ~umask);
    },
  },
  {
    name:
      "applies an explicit mode filtered by the umask and keeps an existing mode",
    skip: ({ backend }) => backend.capabilities.mode ? undefined : "no modes",
    async run({ api }, dir) {
      const file = path.join(dir, "moded");
      await api.writeFile(file, "x", { mode: 0o640 });
      assert.equal(modeOf(file), 0o640);
      api.writeFileSync(file, "x", { mode: 0o666 });
      assert.equal(
        modeOf(file),
        0o666 & ~process.umask(),
        "filtered by the umask, like open(2)",
      );
      fs.chmodSync(file, 0o604);
      await api.writeFile(file, "y");
      assert.equal(modeOf(file), 0o604);
      await api.writeFile(file, "z", { append: true });
      assert.equal(modeOf(file), 0o604);
    },
  },
  {
    name: "keeps the existing owner and group (as root)",
    skip: skipUnlessRoot,
    async run({ api }, dir) {
      const file = oldTarget(dir);
      fs.chownSync(file, 4321, 4322);
      await api.writeFile(file, "new");
      assert.deepEqual([fs.statSync(file).uid, fs.statSync(file).gid], [
        4321,
        4322,
      ]);
      api.writeFileSync(file, "new2");
      assert.equal(fs.statSync(file).uid, 4321);
      await api.writeFile(file, "mine", { chown: false });
      assert.equal(fs.statSync(file).uid, 0);
      await api.writeFile(file, "given", { chown: { uid: 1234, gid: 1235 } });
      assert.deepEqual([fs.statSync(file).uid, fs.statSync(file).gid], [
        1234,
        1235,
      ]);
    },
  },
  {
    name: "the temp file is never more permissive than the final mode",
    skip: ({ backend }) => backend.capabilities.mode ? undefined : "no modes",
    async run({ backend }, dir) {
      const seen: number[] = [];
      const watching = observing(backend, "createTemp", ([temp]) => {
        seen.push(modeOf(temp));
      });
      const { api } = subjectFor("watching", watching);
      const file = oldTarget(dir);
      fs.chmodSync(file, 0o600);
      await api.writeFile(file, "private");
      await api.writeFile(file, "more", { append: true });
      await api.writeFile(path.join(dir, "explicit"), "x", { mode: 0o400 });
      assert.deepEqual(seen.map((m) => m & ~0o600), [0, 0, 0], seen.join());
      assert.equal(seen[2] & ~0o400, 0);
    },
  },
  {
    name: "a hard link to the target keeps the old content (links detach)",
    async run({ api }, dir) {
      const file = oldTarget(dir);
      const link = path.join(dir, "hardlink.txt");
      fs.linkSync(file, link);
      await api.writeFile(file, "new");
      assert.equal(text(file), "new");
      assert.equal(text(link), "old");
    },
  },
  // ----------------------------------------------------------- symlinks
  {
    name: "follows a symlink by default and keeps the link",
    async run({ api }, dir) {
      const real = oldTarget(dir, "real.txt");
      const link = path.join(dir, "link.txt");
      fs.symlinkSync("real.txt", link);
      await api.writeFile(link, "through");
      assert.ok(fs.lstatSync(link).isSymbolicLink());
      assert.equal(text(real), "through");
    },
  },
  {
    name: "replaces the link itself with symlinks: replace",
    async run({ api }, dir) {
      const real = oldTarget(dir, "real.txt");
      const link = path.join(dir, "link.txt");
      fs.symlinkSync(real, link);
      await api.writeFile(link, "replaced", { symlinks: "replace" });
      assert.ok(fs.lstatSync(link).isFile());
      assert.equal(text(link), "replaced");
      assert.equal(text(real), "old");
    },
  },
  {
    name: "creates the target of a dangling symlink",
    async run({ api }, dir) {
      fs.mkdirSync(path.join(dir, "sub"));
      const link = path.join(dir, "link");
      fs.symlinkSync("sub/missing.txt", link);
      await api.writeFile(link, "created");
      assert.ok(fs.lstatSync(link).isSymbolicLink());
      assert.equal(text(path.join(dir, "sub", "missing.txt")), "created");
    },
  },
  // -------------------------------------------------------------- append
  {
    name: "appends to an existing file and to a missing one",
    async run({ api }, dir) {
      const file = oldTarget(dir);
      await api.writeFile(file, "+new", { append: true });
      assert.equal(text(file), "old+new");
      api.writeFileSync(file, "+sync", { append: true });
      assert.equal(text(file), "old+new+sync");
      const fresh = path.join(dir, "fresh");
      await api.writeTextFile(fresh, "first", { append: true });
      assert.equal(text(fresh), "first");
    },
  },
  // ------------------------------------------------ aborts and failures
  {
    name:
      "an abort before the write rejects with the reason and touches nothing",
    async run({ api }, dir) {
      const file = oldTarget(dir);
      const controller = new AbortController();
      const reason = new Error("stop");
      controller.abort(reason);
      await assert.rejects(
        api.writeFile(file, "new", { signal: controller.signal }),
        (error) => error === reason,
      );
      assert.equal(text(file), "old");
    },
  },
  {
    name: "an abort during the write keeps the old file and removes the temp",
    atomicity: true,
    async run({ api }, dir) {
      const file = oldTarget(dir);
      const controller = new AbortController();
      const { chunks, release, firstChunkTaken } = stalledStream();
      const writing = api.writeFile(file, chunks, {
        signal: controller.signal,
      });
      await firstChunkTaken;
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(text(file), "old", "old content while writing");
      controller.abort(new Error("user gave up"));
      release();
      await assert.rejects(writing, /user gave up/);
      assert.equal(text(file), "old");
    },
  },
  {
    name: "an input stream that fails midway keeps the old file",
    atomicity: true,
    async run({ api }, dir) {
      const file = oldTarget(dir);
      const { chunks, release, firstChunkTaken } = stalledStream(
        new Error("source broke"),
      );
      const writing = api.writeFile(file, chunks);
      await firstChunkTaken;
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(text(file), "old", "old content while writing");
      release();
      const error = await rejectsWith(writing, "data");
      assert.match(error.message, /source broke/);
      assert.equal(text(file), "old");
    },
  },
  {
    name:
      "injected faults keep the old file, remove the temp and name the step",
    async run({ backend }, dir) {
      const file = oldTarget(dir);
      const faults = [
        ["write", "EIO"],
        ["write", "ENOSPC"],
        ["sync", "EIO"],
        ["close", "EIO"],
        ["rename", "EIO"],
        ["createTemp", "EACCES"],
      ] as const;
      const steps: Record<string, string> = {
        write: "write",
        sync: "sync",
        close: "close",
        rename: "rename",
        createTemp: "open",
      };
      for (const [primitive, code] of faults) {
        const fail = () => {
          throw Object.assign(new Error(`injected ${code}`), { code });
        };
        const faulty: Backend = {
          ...backend,
          sync: { ...backend.sync!, [primitive]: fail },
          async: {
            ...backend.async,
            [primitive]: () =>
              Promise.reject(
                Object.assign(new Error(`injected ${code}`), { code }),
              ),
          },
        };
        const { api } = subjectFor("faulty", faulty);
        await rejectsWith(api.writeFile(file, "new"), steps[primitive], code);
        assert.throws(() => api.writeFileSync(file, "new"), new RegExp(code));
        assert.equal(text(file), "old", `${primitive} ${code}`);
        assert.deepEqual(leftoverTemps(dir), [], `${primitive} ${code}`);
      }
      // After the rename only the directory fsync can fail: the error says
      // so, and the target already holds the new content.
      const lateFault: Backend = {
        ...backend,
        async: {
          ...backend.async,
          syncDirectory: () =>
            Promise.reject(Object.assign(new Error("EIO"), { code: "EIO" })),
        },
      };
      await rejectsWith(
        subjectFor("late", lateFault).api.writeFile(file, "new"),
        "sync-directory",
        "EIO",
      );
      assert.equal(text(file), "new");
    },
  },
  // ---------------------------------------------------------- bad input
  {
    name: "a target that is a directory is an error and the directory stays",
    async run({ api }, dir) {
      const target = path.join(dir, "folder");
      fs.mkdirSync(target);
      fs.writeFileSync(path.join(target, "inside"), "keep");
      await rejectsWith(api.writeFile(target, "x"), "resolve", "EISDIR");
      await rejectsWith(api.writeFile(`${target}/`, "x"), "resolve", "EISDIR");
      assert.throws(() => api.writeFileSync(target, "x"), AtomicWriteError);
      assert.equal(text(path.join(target, "inside")), "keep");
    },
  },
  {
    name: "a missing parent is an error unless createParents",
    async run({ api }, dir) {
      const file = path.join(dir, "a", "b", "c.txt");
      await rejectsWith(api.writeFile(file, "x"), "resolve", "ENOENT");
      assert.equal(fs.existsSync(path.join(dir, "a")), false);
      await api.writeFile(file, "deep", { createParents: true });
      assert.equal(text(file), "deep");
      assert.deepEqual(leftoverTemps(path.join(dir, "a", "b")), []);
    },
  },
  {
    name: "a parent that is a file is an error",
    async run({ api }, dir) {
      const parent = oldTarget(dir, "plain");
      await rejectsWith(
        api.writeFile(path.join(parent, "x"), "x"),
        "resolve",
        "ENOTDIR",
      );
      await rejectsWith(
        api.writeFile(path.join(parent, "x", "y"), "x", {
          createParents: true,
        }),
        "resolve",
        "ENOTDIR",
      );
      assert.equal(text(parent), "old");
    },
  },
  {
    name:
      "a read-only target in a writable directory is replaced and stays read-only",
    skip: ({ backend }) => backend.capabilities.mode ? undefined : "no modes",
    async run({ api }, dir) {
      const file = oldTarget(dir);
      fs.chmodSync(file, 0o444);
      await api.writeFile(file, "new");
      assert.equal(text(file), "new");
      assert.equal(modeOf(file), 0o444);
    },
  },
  {
    name: "a name too long for the file system is an error",
    async run({ api }, dir) {
      const file = path.join(dir, "n".repeat(300));
      await rejectsWith(api.writeFile(file, "x"), "resolve", "ENAMETOOLONG");
      // A long but valid name still gets a temp name within limits.
      const long = path.join(dir, "é".repeat(127));
      await api.writeFile(long, "ok");
      assert.equal(text(long), "ok");
    },
  },
  {
    name: "a path containing NUL or an empty path is a TypeError",
    async run({ api }, dir) {
      await assert.rejects(api.writeFile(`${dir}/a\0b`, "x"), TypeError);
      assert.throws(() => api.writeFileSync(`${dir}/a\0b`, "x"), TypeError);
      await assert.rejects(api.writeFile("", "x"), TypeError);
      await assert.rejects(
        api.writeFile(42 as unknown as string, "x"),
        TypeError,
      );
    },
  },
  {
    name: "a symlink loop is an error",
    async run({ api }, dir) {
      const a = path.join(dir, "loop-a");
      fs.symlinkSync("loop-b", a);
      fs.symlinkSync("loop-a", path.join(dir, "loop-b"));
      await rejectsWith(api.writeFile(a, "x"), "resolve", "ELOOP");
      assert.throws(() => api.writeFileSync(a, "x"), /ELOOP/);
    },
  },
  {
    name: "unsupported data and options are TypeErrors that touch nothing",
    async run({ api }, dir) {
      const file = oldTarget(dir);
      for (const data of [42, null, undefined, {}, true]) {
        await assert.rejects(
          api.writeFile(file, data as unknown as string),
          (error: Error) =>
            error instanceof TypeError && /"data"/.test(error.message),
        );
      }
      await assert.rejects(
        api.writeFile(file, [new Uint8Array([1]), 5 as unknown as string]),
        TypeError,
      );
      await assert.rejects(
        api.writeFile(file, "x", { durability: "fast" as "full" }),
        /"durability".*"fast"/,
      );
      await assert.rejects(api.writeFile(file, "x", { mode: -1 }), RangeError);
      await assert.rejects(
        api.writeFile(file, "x", { append: true, coalesce: true }),
        TypeError,
      );
      await assert.rejects(
        api.writeTextFile(file, new Uint8Array(1) as unknown as string),
        /"text"/,
      );
      assert.throws(
        () => api.writeFileSync(file, new Blob(["x"]) as never),
        TypeError,
      );
      assert.equal(text(file), "old");
    },
  },
  {
    name:
      "no write permission on the directory is an open error (as another user)",
    skip: () =>
      IS_ROOT && !fs.existsSync("/usr/bin/setpriv")
        ? "needs setpriv to drop root"
        : undefined,
    timeout: 60_000,
    async run({ name }, dir) {
      const locked = path.join(dir, "locked");
      fs.mkdirSync(locked, { mode: 0o755 });
      const file = path.join(locked, "target.txt");
      fs.writeFileSync(file, "old");
      fs.chmodSync(file, 0o666);
      if (!IS_ROOT) fs.chmodSync(locked, 0o555);
      // As root, a child running as nobody has no write access to `locked`.
      fs.chmodSync(dir, 0o755);
      const command = [
        ...(IS_ROOT
          ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
          : []),
        ...scriptCommand(path.join(ROOT, "tests", "_write_child.ts")),
        name,
        file,
        "new",
      ];
      const result = await run(command);
      assert.equal(result.code, 3, result.stderr);
      const report = JSON.parse(result.stdout);
      assert.equal(report.step, "open", result.stdout);
      assert.equal(report.code, "EACCES", result.stdout);
      assert.equal(text(file), "old");
    },
  },
  {
    name: "a full file system (ENOSPC) keeps the old file and leaves no temp",
    atomicity: true,
    skip: () => {
      if (!IS_ROOT) return "needs root to mount a small tmpfs";
      return undefined;
    },
    timeout: 60_000,
    async run({ api }, dir) {
      const mount = path.join(dir, "small");
      fs.mkdirSync(mount);
      try {
        execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mount]);
      } catch (error) {
        console.log(`ENOSPC case skipped: cannot mount a tmpfs (${error})`);
        return;
      }
      try {
        const file = path.join(mount, "target.txt");
        fs.writeFileSync(file, "old");
        const big = new Uint8Array(2 * 1024 * 1024).fill(120);
        await rejectsWith(api.writeFile(file, big), "write", "ENOSPC");
        assert.equal(text(file), "old");
        assert.deepEqual(leftoverTemps(mount), []);
        assert.throws(() => api.writeFileSync(file, big), /ENOSPC/);
        assert.equal(text(file), "old");
        assert.deepEqual(leftoverTemps(mount), []);
      } finally {
        execFileSync("umount", [mount]);
      }
    },
  },
  // ----------------------------------------------------------- openAtomic
  {
    name:
      "openAtomic keeps the target readable with its old content until commit",
    atomicity: true,
    async run({ api }, dir) {
      const file = path.join(dir, "doc.txt");
      fs.writeFileSync(file, "line one\nline two\n");
      const pending = await api.openAtomic(file);
      assert.equal(pending.path, file);
      // The sponge pattern: read the file while writing its replacement.
      for (const line of text(file).split("\n")) {
        await pending.write(line.toUpperCase() + (line ? "\n" : ""));
        assert.equal(text(file), "line one\nline two\n");
      }
      await pending.commit();
      assert.equal(text(file), "LINE ONE\nLINE TWO\n");
      await assert.rejects(pending.write("late"), /already committed/);
    },
  },
  {
    name: "openAtomic discard and dispose leave the old file and no temp",
    async run({ api }, dir) {
      const file = oldTarget(dir);
      const discarded = await api.openAtomic(file);
      await discarded.write("never");
      await discarded.discard();
      await discarded.discard();
      assert.equal(text(file), "old");
      {
        await using disposed = await api.openAtomic(file);
        await disposed.write("never either");
      }
      assert.equal(text(file), "old");
      {
        await using committed = await api.openAtomic(file);
        await committed.write("kept");
        await committed.commit();
      }
      assert.equal(text(file), "kept");
    },
  },
  {
    name: "openAtomic's writable commits on close and discards on abort",
    async run({ api }, dir) {
      const file = oldTarget(dir);
      const piped = await api.openAtomic(file);
      await streamOf(["a", new Uint8Array([98])]).pipeTo(piped.writable);
      assert.equal(text(file), "ab");
      const aborted = await api.openAtomic(file);
      const writer = aborted.writable.getWriter();
      await writer.write("zzz");
      await writer.abort(new Error("no"));
      assert.equal(text(file), "ab");
      const controller = new AbortController();
      const signalled = await api.openAtomic(file, {
        signal: controller.signal,
      });
      await signalled.write("x");
      controller.abort();
      await assert.rejects(signalled.commit());
      assert.equal(text(file), "ab");
    },
  },
  // ---------------------------------------------------------- ordering
  {
    name: "writes to one file apply in call order, sync and async alike",
    async run({ api }, dir) {
      const file = path.join(dir, "ordered");
      const writes = Array.from(
        { length: 50 },
        (_, i) => api.writeFile(file, `version ${i}`, { durability: "none" }),
      );
      await Promise.all(writes);
      assert.equal(text(file), "version 49");
      const older = api.writeFile(file, "async, older");
      api.writeFileSync(file, "sync, newer");
      await older;
      assert.equal(text(file), "sync, newer");
    },
  },
  {
    name:
      "a synchronous write lands after an older rename still in the thread pool",
    skip: ({ backend }) =>
      backend.sync ? undefined : "no synchronous API in this backend",
    async run({ backend }, dir) {
      // With writes in flight in other directories, renames that were slow
      // on the main thread go to the thread pool. A synchronous write that
      // comes while an older write's rename sits there must not be
      // overwritten by it when it lands.
      const file = path.join(dir, "ordered");
      // Renames go to the pool while writes run in two directories.
      fs.mkdirSync(path.join(dir, "elsewhere"));
      const other = path.join(dir, "elsewhere", "other");
      let renamesInPool = 0;
      const renameAsync = backend.async.rename;
      const renameSync = backend.sync!.rename;
      const slowDisk = new Int32Array(new SharedArrayBuffer(4));
      const hooked: Backend = {
        ...backend,
        // A disk where a rename takes 2 ms, as measured on the main thread.
        sync: {
          ...backend.sync!,
          rename: (from, to) => {
            Atomics.wait(slowDisk, 0, 0, 2);
            renameSync(from, to);
          },
        },
        async: {
          ...backend.async,
          rename: (from, to) => {
            if (to === file) {
              renamesInPool++;
              api.writeFileSync(file, "sync, newer");
            }
            return renameAsync(from, to);
          },
        },
      };
      const { api } = subjectFor("hooked", hooked);
      // One write alone renames on the main thread and measures it.
      await api.writeFile(file, "measured", { durability: "none" });
      // A stream held open keeps a write in flight in another directory.
      let finishStream!: () => void;
      const streamHeld = new Promise<void>((resolve) => finishStream = resolve);
      const streaming = api.writeFile(
        other,
        (async function* () {
          yield "first chunk";
          await streamHeld;
        })(),
      );
      await api.writeFile(file, "async, older", { durability: "none" });
      finishStream();
      await streaming;
      assert.equal(renamesInPool, 1, "the rename went to the thread pool");
      assert.equal(text(file), "sync, newer");
    },
  },
  {
    name:
      "a synchronous append overtakes pending writes without discarding them",
    async run({ api }, dir) {
      // A synchronous call cannot wait, so it runs ahead of older pending
      // writes; only a synchronous replace makes them pointless. Before, a
      // synchronous append made an older asynchronous append skip its rename
      // and resolve: "0b", with "a" lost.
      const file = path.join(dir, "log");
      fs.writeFileSync(file, "0");
      const olderAppend = api.writeFile(file, "a", { append: true });
      api.writeFileSync(file, "b", { append: true });
      await olderAppend;
      assert.equal(text(file), "0ba");
      // A synchronous replace still makes an older append pointless.
      const skipped = api.writeFile(file, "c", { append: true });
      api.writeFileSync(file, "new");
      await skipped;
      assert.equal(text(file), "new");
      // A createNew that overtakes a pending write keeps that write too.
      const fresh = path.join(dir, "fresh");
      const olderCreate = api.writeFile(fresh, "async");
      api.writeFileSync(fresh, "sync", { createNew: true });
      await olderCreate;
      assert.equal(text(fresh), "async");
    },
  },
  {
    name: "two names for one file share the order",
    async run({ api }, dir) {
      const real = path.join(dir, "real");
      fs.mkdirSync(real);
      fs.symlinkSync(real, path.join(dir, "alias"));
      const writes: Promise<void>[] = [];
      for (let i = 0; i < 20; i++) {
        const via = i % 2 ? "alias" : "real";
        writes.push(
          api.writeFile(path.join(dir, via, "f"), `${i}`, {
            durability: "none",
          }),
        );
      }
      await Promise.all(writes);
      assert.equal(text(path.join(real, "f")), "19");
    },
  },
  {
    name:
      "coalesce writes only the newest queued data and settles every caller",
    async run({ backend }, dir) {
      const file = path.join(dir, "state.json");
      let temps = 0;
      const counting = observing(backend, "createTemp", () => temps++);
      const { api } = subjectFor("counting", counting);
      const writes = Array.from(
        { length: 200 },
        (_, i) =>
          api.writeFile(file, JSON.stringify({ i }), { coalesce: true }),
      );
      await Promise.all(writes);
      assert.equal(text(file), '{"i":199}');
      assert.ok(
        temps >= 1 && temps <= 3,
        `${temps} actual writes for 200 calls`,
      );
    },
  },
  {
    name: "coalesced callers settle in call order",
    async run({ api }, dir) {
      // A UI that shows "saved" from each caller must end with the newest.
      const file = path.join(dir, "order.txt");
      const settled: number[] = [];
      const write = (i: number) =>
        api.writeFile(file, `${i}`, { coalesce: true }).then(() =>
          settled.push(i)
        );
      const first = Array.from({ length: 20 }, (_, i) => write(i));
      await new Promise((resolve) => setTimeout(resolve, 0));
      const second = Array.from({ length: 20 }, (_, i) => write(20 + i));
      await Promise.all([...first, ...second]);
      assert.deepEqual(settled, Array.from({ length: 40 }, (_, i) => i));
      assert.equal(text(file), "39");
    },
  },
  {
    name:
      "coalesced calls with different options are not merged: each keeps its own",
    skip: ({ backend }) => backend.capabilities.mode ? undefined : "no modes",
    async run({ api }, dir) {
      const file = path.join(dir, "mode.txt");
      // A running write keeps the coalesced calls waiting, so that they
      // could merge.
      const { chunks, release, firstChunkTaken } = stalledStream();
      const running = api.writeFile(file, chunks);
      await firstChunkTaken;
      const waiting = [
        api.writeFile(file, "a", { coalesce: true, mode: 0o600 }),
        api.writeFile(file, "b", { coalesce: true, mode: 0o640 }),
        api.writeFile(file, "c", { coalesce: true, mode: 0o640 }),
      ];
      await new Promise((resolve) => setTimeout(resolve, 10));
      release();
      await Promise.all([running, ...waiting]);
      assert.equal(text(file), "c");
      assert.equal(modeOf(file), 0o640);
    },
  },
  {
    name: "coalesced calls through two names of one file end with the last",
    async run({ api }, dir) {
      const file = path.join(dir, "two-names.txt");
      const sameFile = `${dir}/./two-names.txt`;
      await Promise.all(
        Array.from(
          { length: 100 },
          (_, i) =>
            api.writeFile(i % 3 ? file : sameFile, `${i}`, { coalesce: true }),
        ),
      );
      assert.equal(text(file), "99");
      assert.deepEqual(leftoverTemps(dir), []);
    },
  },
  {
    name:
      "a failed coalesced write rejects exactly the callers whose data it carried",
    async run({ api }, dir) {
      const file = oldTarget(dir);
      const { chunks, release, firstChunkTaken } = stalledStream();
      const first = api.writeFile(file, chunks, { coalesce: true });
      await firstChunkTaken;
      async function* broken() {
        yield "partial";
        throw new Error("third caller's data is broken");
      }
      const second = api.writeFile(file, "second", { coalesce: true });
      const third = api.writeFile(file, broken(), { coalesce: true });
      release();
      await first;
      const outcomes = await Promise.allSettled([second, third]);
      assert.deepEqual(outcomes.map((o) => o.status), ["rejected", "rejected"]);
      assert.equal(text(file), "new content, part one, part two");
      await api.writeFile(file, "after", { coalesce: true });
      assert.equal(text(file), "after");
    },
  },
  {
    name:
      "a busy rename is retried where the platform needs it (injected EPERM)",
    async run({ backend }, dir) {
      const file = oldTarget(dir);
      let failures = 2;
      const busy = Object.assign(new Error("busy"), { code: "EPERM" });
      const flaky =
        (rename: (a: string, b: string) => unknown) =>
        (from: string, to: string) => {
          if (failures-- > 0) throw busy;
          return rename(from, to);
        };
      const windowsLike: Backend = {
        ...backend,
        capabilities: { ...backend.capabilities, retryBusyRename: true },
        sync: { ...backend.sync!, rename: flaky(backend.sync!.rename) },
      };
      const { api } = subjectFor("windows-like", windowsLike);
      await api.writeFile(file, "after two retries");
      assert.equal(text(file), "after two retries");
      failures = 100;
      await rejectsWith(api.writeFile(file, "never"), "rename", "EPERM");
      assert.equal(text(file), "after two retries");
    },
  },
  // ----------------------------------------------------- processes
  {
    name:
      "several processes writing and reading one file never see a torn file",
    atomicity: true,
    timeout: 120_000,
    async run({ name }, dir) {
      const file = path.join(dir, "shared.txt");
      fs.writeFileSync(file, versionContent("initial", 0));
      const script = path.join(ROOT, "tests", "_contention_child.ts");
      const done = path.join(dir, "writers-done");
      const readers = Array.from(
        { length: 2 },
        () => run([...scriptCommand(script), "read", name, file, done]),
      );
      const writers = Array.from(
        { length: 4 },
        (_, i) =>
          run([...scriptCommand(script), "write", name, file, `w${i}`, "40"]),
      );
      const written = await Promise.all(writers);
      fs.writeFileSync(done, "");
      const read = await Promise.all(readers);
      for (const result of [...written, ...read]) {
        assert.equal(result.code, 0, result.stderr + result.stdout);
      }
      const reports = read.map((r) => JSON.parse(r.stdout));
      for (const report of reports) assert.ok(report.reads > 0, "readers read");
      assert.deepEqual(
        reports.map((r) => r.torn),
        [0, 0],
        "torn reads seen by the readers",
      );
      assert.ok(
        isWholeVersion(text(file)),
        "final content is one whole version",
      );
    },
  },
  // ------------------------------------------------------------ cleanup
  {
    name: "cleanupTemps removes only this library's stale temp files",
    async run({ api }, dir) {
      const stale = path.join(dir, ".data.json.0123456789abcdef.atomic-tmp");
      const fresh = path.join(dir, ".data.json.fedcba9876543210.atomic-tmp");
      const foreign = path.join(dir, ".data.json.tmp");
      for (const file of [stale, fresh, foreign]) fs.writeFileSync(file, "x");
      const hourAgo = new Date(Date.now() - 3_600_000);
      fs.utimesSync(stale, hourAgo, hourAgo);
      fs.utimesSync(foreign, hourAgo, hourAgo);
      // A clock that is off (a temp "modified" in the future) still goes
      // with olderThan 0.
      const inFuture = new Date(Date.now() + 3_600_000);
      fs.utimesSync(fresh, inFuture, inFuture);
      assert.deepEqual(await api.cleanupTemps(dir), [stale]);
      assert.deepEqual(await api.cleanupTemps(dir, { olderThan: 0 }), [fresh]);
      assert.ok(fs.existsSync(foreign));
      await assert.rejects(
        api.cleanupTemps(dir, { olderThan: -1 }),
        RangeError,
      );
    },
  },
];

/** Self-checking content: a header with the length and a checksum. */
export function versionContent(writer: string, n: number): string {
  const body = `${writer}:${n}:`.padEnd(1000 + (n % 7) * 3000, "*");
  return `${body.length}:${checksum(body)}|${body}`;
}

/** True if the text is exactly one content made by `versionContent`. */
export function isWholeVersion(content: string): boolean {
  const match = /^(\d+):(\d+)\|/.exec(content);
  if (!match) return false;
  const body = content.slice(match[0].length);
  return body.length === Number(match[1]) &&
    checksum(body) === Number(match[2]);
}

function checksum(body: string): number {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    sum = (sum * 31 + body.charCodeAt(i)) >>> 0;
  }
  return sum;
}

/** A `Disk` (see `_portable_cases.ts`) over a real directory. */
function fsDisk(backend: string, dir: string): Disk {
  return {
    backend,
    path: (name) => path.join(dir, name),
    directory: dir,
    options: {},
    readText: (name) => Promise.resolve(text(path.join(dir, name))),
    readBytes: (name) => Promise.resolve(readBytes(path.join(dir, name))),
    list: () => Promise.resolve(fs.readdirSync(dir).sort()),
    put: (name, content) =>
      Promise.resolve(fs.writeFileSync(path.join(dir, name), content)),
    makeDirectory: (name) =>
      Promise.resolve(void fs.mkdirSync(path.join(dir, name))),
  };
}

/** The portable cases (also run in browsers), as cases of this suite. */
const sharedCases: Case[] = portableCases.map((portable) => ({
  name: `portable: ${portable.name}`,
  skip: ({ name }) =>
    portable.only && portable.only !== name
      ? `only for the ${portable.only} backend`
      : undefined,
  run: ({ name, api }, dir) => portable.run({ api, disk: fsDisk(name, dir) }),
}));

/** Registers every case for one subject with node:test. */
export function registerConformance(subject: Subject): void {
  describe(`conformance: ${subject.name} backend in ${RUNTIME}`, () => {
    for (const testCase of [...cases, ...sharedCases]) {
      const reason = testCase.skip?.(subject);
      test(
        nameWithSkipReason(testCase.name, reason),
        { skip: reason ?? false, timeout: testCase.timeout ?? 30_000 },
        async () => {
          const dir = makeTempDir();
          try {
            await testCase.run(subject, dir);
            assert.deepEqual(leftoverTemps(dir), [], "temp files left behind");
          } finally {
            fs.rmSync(dir, { recursive: true, force: true });
          }
        },
      );
    }
  });
}
