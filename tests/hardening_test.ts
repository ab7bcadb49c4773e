/**
 * Inputs that once went silently wrong on the file system: the target
 * followed across `chdir` and symlink swaps, special files, trailing
 * slashes, detached buffers, the umask and Deno's `create`/`createNew`.
 * Run against every backend this runtime hosts. (The option-table cases
 * that also apply in browsers are in `_portable_cases.ts`.)
 */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import type { Backend } from "../src/_backend.ts";
import {
  availableBackends,
  createBackend,
  IS_ROOT,
  leftoverTemps,
  makeTempDir,
  rejectsWith,
  RUNTIME,
  type Subject,
  subjectFor,
} from "./_helpers.ts";

const text = (file: string) => fs.readFileSync(file, "utf8");
const modeOf = (file: string) => fs.statSync(file).mode & 0o7777;

/** An async iterable that yields one chunk, then waits until released. */
function held(first: string) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  let taken!: () => void;
  const started = new Promise<void>((resolve) => taken = resolve);
  async function* chunks() {
    yield first;
    taken();
    await released;
  }
  return { chunks: chunks(), release, started };
}

/** Gives the file at `target` content as soon as the temp is fsynced. */
function racingCreator(backend: Backend, target: string): Backend {
  const create = () => fs.writeFileSync(target, "racer");
  return {
    ...backend,
    sync: backend.sync && {
      ...backend.sync,
      sync: (handle) => {
        backend.sync!.sync(handle);
        create();
      },
    },
    async: {
      ...backend.async,
      sync: async (handle) => {
        await backend.async.sync(handle);
        create();
      },
    },
  };
}

function transferred(bytes: Uint8Array): void {
  structuredClone(bytes.buffer, { transfer: [bytes.buffer] });
}

interface HardeningCase {
  name: string;
  skip?: () => string | undefined;
  run(subject: Subject, dir: string): Promise<void>;
}

const cases: HardeningCase[] = [
  {
    name:
      "coalesced writes after a chdir go to the file named at call time (item 2)",
    async run({ api }, dir) {
      const a = path.join(dir, "a");
      const b = path.join(dir, "b");
      fs.mkdirSync(a);
      fs.mkdirSync(b);
      fs.writeFileSync(path.join(a, "f.txt"), "old a");
      fs.writeFileSync(path.join(b, "f.txt"), "old b");
      const cwd = process.cwd();
      try {
        process.chdir(a);
        // A write in flight, so that the next coalescing call waits as a
        // batch that later calls could join.
        const { chunks, release, started } = held("first a");
        const first = api.writeFile("f.txt", chunks, { coalesce: true });
        await started;
        const toA = api.writeTextFile("f.txt", "second a", { coalesce: true });
        process.chdir(b);
        const toB = api.writeTextFile("f.txt", "only b", { coalesce: true });
        release();
        await Promise.all([first, toA, toB]);
      } finally {
        process.chdir(cwd);
      }
      assert.equal(text(path.join(a, "f.txt")), "second a");
      assert.equal(text(path.join(b, "f.txt")), "only b");
      assert.deepEqual([...leftoverTemps(a), ...leftoverTemps(b)], []);
    },
  },
  {
    name:
      "coalesced writes through a swapped directory link go to the file named at call time (item 2)",
    async run({ api }, dir) {
      const a = path.join(dir, "a");
      const b = path.join(dir, "b");
      const link = path.join(dir, "current");
      fs.mkdirSync(a);
      fs.mkdirSync(b);
      fs.symlinkSync(a, link);
      const target = path.join(link, "f.txt");
      const { chunks, release, started } = held("first a");
      const first = api.writeFile(target, chunks, { coalesce: true });
      await started;
      const toA = api.writeTextFile(target, "second a", { coalesce: true });
      fs.unlinkSync(link);
      fs.symlinkSync(b, link);
      const toB = api.writeTextFile(target, "only b", { coalesce: true });
      // Not coalescing: ordered by the same call-time target.
      const plainB = api.writeTextFile(path.join(link, "g.txt"), "plain b");
      release();
      await Promise.all([first, toA, toB, plainB]);
      assert.equal(text(path.join(a, "f.txt")), "second a");
      assert.equal(text(path.join(b, "f.txt")), "only b");
      assert.equal(text(path.join(b, "g.txt")), "plain b");
      assert.deepEqual([...leftoverTemps(a), ...leftoverTemps(b)], []);
    },
  },
  {
    name:
      "coalesced writes through a swapped file link go to the file named at call time (item 2)",
    async run({ api }, dir) {
      // A joining call is keyed by the identity of the file its path names
      // at the call: a swapped final link names another file.
      const a = path.join(dir, "a.txt");
      const b = path.join(dir, "b.txt");
      fs.writeFileSync(a, "old a");
      fs.writeFileSync(b, "old b");
      const link = path.join(dir, "current.txt");
      fs.symlinkSync(a, link);
      const { chunks, release, started } = held("first a");
      const first = api.writeFile(link, chunks, { coalesce: true });
      await started;
      const toA = api.writeTextFile(link, "second a", { coalesce: true });
      fs.unlinkSync(link);
      fs.symlinkSync(b, link);
      const toB = api.writeTextFile(link, "only b", { coalesce: true });
      release();
      await Promise.all([first, toA, toB]);
      assert.equal(text(a), "second a");
      assert.equal(text(b), "only b");
      assert.deepEqual(leftoverTemps(dir), []);
    },
  },
  {
    name:
      "coalesced writes to two hard links of one file write both names (item 2)",
    async run({ api }, dir) {
      const a = path.join(dir, "a.txt");
      const b = path.join(dir, "b.txt");
      fs.writeFileSync(a, "old");
      fs.linkSync(a, b);
      const { chunks, release, started } = held("first a");
      const first = api.writeFile(a, chunks, { coalesce: true });
      await started;
      const toA = api.writeTextFile(a, "second a", { coalesce: true });
      const toB = api.writeTextFile(b, "only b", { coalesce: true });
      release();
      await Promise.all([first, toA, toB]);
      assert.equal(text(a), "second a");
      assert.equal(text(b), "only b");
      assert.deepEqual(leftoverTemps(dir), []);
    },
  },
  {
    name:
      "a FIFO, a socket or a device as target is refused and stays (item 3)",
    async run({ api }, dir) {
      const specials: [string, string][] = [];
      const fifo = path.join(dir, "fifo");
      execFileSync("mkfifo", [fifo]);
      specials.push([fifo, "FIFO"]);
      const socketPath = path.join(dir, "socket");
      const server = net.createServer();
      await new Promise<void>((resolve) => server.listen(socketPath, resolve));
      specials.push([socketPath, "socket"]);
      if (IS_ROOT) {
        const device = path.join(dir, "null-device");
        execFileSync("mknod", [device, "c", "1", "3"]);
        specials.push([device, "character device"]);
        const block = path.join(dir, "block-device");
        execFileSync("mknod", [block, "b", "7", "250"]);
        specials.push([block, "block device"]);
      }
      try {
        for (const [special, kind] of specials) {
          const before = fs.lstatSync(special);
          const link = `${special}-link`;
          fs.symlinkSync(special, link);
          for (const target of [special, link]) {
            const error = await rejectsWith(
              api.writeTextFile(target, "x"),
              "resolve",
              "EFTYPE",
            );
            assert.match(error.message, new RegExp(kind), error.message);
            await rejectsWith(
              () => api.writeFileSync(target, "x"),
              "resolve",
              "EFTYPE",
            );
            await rejectsWith(
              api.writeTextFile(target, "x", { append: true }),
              "resolve",
              "EFTYPE",
            );
          }
          const after = fs.lstatSync(special);
          assert.equal(after.ino, before.ino, `${kind} kept`);
          assert.equal(after.mode, before.mode, `${kind} kept`);
          // symlinks: "replace" replaces the link, never the special file.
          await api.writeTextFile(link, "now a file", { symlinks: "replace" });
          assert.equal(text(link), "now a file");
          assert.equal(fs.lstatSync(special).ino, before.ino);
        }
      } finally {
        server.close();
      }
    },
  },
  {
    name: "a trailing slash fails like open(2) and writes nothing (item 5)",
    async run({ api }, dir) {
      const file = path.join(dir, "file.txt");
      fs.writeFileSync(file, "old");
      fs.mkdirSync(path.join(dir, "folder"));
      await rejectsWith(
        api.writeTextFile(path.join(dir, "fresh") + "/", "x"),
        "resolve",
        "EISDIR",
      );
      await rejectsWith(
        () => api.writeTextFileSync(path.join(dir, "fresh") + "//", "x"),
        "resolve",
        "EISDIR",
      );
      await rejectsWith(
        api.writeTextFile(`${file}/`, "x"),
        "resolve",
        "ENOTDIR",
      );
      await rejectsWith(
        api.writeTextFile(path.join(dir, "folder") + "/", "x"),
        "resolve",
        "EISDIR",
      );
      await rejectsWith(
        api.writeTextFile(`${file}/`, "x", { symlinks: "replace" }),
        "resolve",
        "ENOTDIR",
      );
      assert.equal(text(file), "old");
      assert.deepEqual(fs.readdirSync(dir).sort(), ["file.txt", "folder"]);
    },
  },
  {
    name:
      "a detached buffer is a TypeError at call time and an error before the write (item 4)",
    async run({ api }, dir) {
      const file = path.join(dir, "data.bin");
      fs.writeFileSync(file, "old");
      const early = new Uint8Array([1, 2, 3]);
      const earlyView = new DataView(early.buffer, 1);
      transferred(early);
      await assert.rejects(api.writeFile(file, early), TypeError);
      assert.throws(() => api.writeFileSync(file, early), TypeError);
      await assert.rejects(api.writeFile(file, early.buffer), TypeError);
      await assert.rejects(api.writeFile(file, earlyView), TypeError);
      await assert.rejects(api.writeFile(file, [early]), TypeError);
      const pending = await api.openAtomic(file);
      await assert.rejects(pending.write(early), TypeError);
      await pending.discard();
      // Detached after the call, before the write read it.
      const late = new Uint8Array([4, 5, 6]);
      const writing = api.writeFile(file, late);
      transferred(late);
      await rejectsWith(writing, "data", "EINVAL");
      assert.equal(text(file), "old");
      // The bytes are read when the write runs: a change made right after
      // the call is in the file.
      const changed = new Uint8Array([7, 8, 9]);
      const changing = api.writeFile(file, changed);
      changed[0] = 70;
      await changing;
      assert.deepEqual([...fs.readFileSync(file)], [70, 8, 9]);
    },
  },
  {
    name:
      "an explicit mode is filtered by the umask; an existing file keeps its mode (item 9)",
    skip: () => process.platform === "win32" ? "no modes" : undefined,
    async run({ api }, dir) {
      const umask = process.umask();
      const fresh = path.join(dir, "fresh.json");
      await api.writeTextFile(fresh, "{}", { mode: 0o666 });
      assert.equal(modeOf(fresh), 0o666 & ~umask);
      api.writeTextFileSync(`${fresh}.sync`, "{}", { mode: 0o666 });
      assert.equal(modeOf(`${fresh}.sync`), 0o666 & ~umask);
      const existing = path.join(dir, "existing.json");
      fs.writeFileSync(existing, "old");
      fs.chmodSync(existing, 0o600);
      await api.writeTextFile(existing, "new");
      assert.equal(modeOf(existing), 0o600, "kept without mode");
      await api.writeTextFile(existing, "newer", { mode: 0o666 });
      assert.equal(modeOf(existing), 0o666 & ~umask, "explicit mode, filtered");
      await api.writeTextFile(existing, "appended", {
        mode: 0o662,
        append: true,
      });
      assert.equal(modeOf(existing), 0o662 & ~umask, "append too");
      // Special bits pass the umask, which only holds permission bits.
      const sticky = path.join(dir, "sticky");
      await api.writeTextFile(sticky, "x", { mode: 0o1640 });
      assert.equal(modeOf(sticky), 0o1640 & ~umask);
      fs.chmodSync(sticky, 0o4750);
      await api.writeTextFile(sticky, "y");
      assert.equal(modeOf(sticky), 0o4750, "setuid kept exactly");
    },
  },
  {
    name:
      "create: false needs an existing file; createNew refuses one (item 7)",
    async run({ api }, dir) {
      const missing = path.join(dir, "missing.txt");
      await rejectsWith(
        api.writeTextFile(missing, "x", { create: false }),
        "resolve",
        "ENOENT",
      );
      await rejectsWith(
        () => api.writeTextFileSync(missing, "x", { create: false }),
        "resolve",
        "ENOENT",
      );
      assert.equal(fs.existsSync(missing), false);
      const existing = path.join(dir, "existing.txt");
      fs.writeFileSync(existing, "old");
      await api.writeTextFile(existing, "replaced", { create: false });
      assert.equal(text(existing), "replaced");
      await rejectsWith(
        api.writeTextFile(existing, "x", { createNew: true }),
        "resolve",
        "EEXIST",
      );
      await rejectsWith(
        () => api.writeTextFileSync(existing, "x", { createNew: true }),
        "resolve",
        "EEXIST",
      );
      // Like O_EXCL: even a dangling symlink is "existing".
      const dangling = path.join(dir, "dangling");
      fs.symlinkSync(path.join(dir, "nowhere"), dangling);
      await rejectsWith(
        api.writeTextFile(dangling, "x", { createNew: true }),
        "resolve",
        "EEXIST",
      );
      assert.equal(fs.existsSync(path.join(dir, "nowhere")), false);
      assert.equal(text(existing), "replaced");
      const created = path.join(dir, "created.txt");
      await api.writeTextFile(created, "new", { createNew: true });
      assert.equal(text(created), "new");
      api.writeTextFileSync(`${created}.sync`, "new", { createNew: true });
      assert.equal(text(`${created}.sync`), "new");
      await assert.rejects(
        api.writeTextFile(created, "x", { createNew: true, create: false }),
        TypeError,
      );
    },
  },
  {
    name:
      "createNew loses to a creator racing it and keeps the racer's file (item 7)",
    async run({ backend }, dir) {
      const target = path.join(dir, "race.txt");
      const { api } = subjectFor("racing", racingCreator(backend, target));
      await rejectsWith(
        api.writeTextFile(target, "mine", { createNew: true }),
        "rename",
        "EEXIST",
      );
      assert.equal(text(target), "racer");
      fs.unlinkSync(target);
      await rejectsWith(
        () => api.writeTextFileSync(target, "mine", { createNew: true }),
        "rename",
        "EEXIST",
      );
      assert.equal(text(target), "racer");
      // Without createNew the rename replaces the racer's file, as asked.
      await api.writeTextFile(target, "mine");
      assert.equal(text(target), "mine");
    },
  },
];

for (const name of availableBackends()) {
  const subject = subjectFor(name, createBackend(name));
  describe(`hardening: ${name} backend in ${RUNTIME}`, () => {
    for (const testCase of cases) {
      const skip = testCase.skip?.();
      // The reason in the name: Deno and Bun print no skip reason.
      const title = skip
        ? `${testCase.name} (skipped: ${skip})`
        : testCase.name;
      test(title, { skip: skip ?? false, timeout: 30_000 }, async () => {
        const dir = makeTempDir();
        try {
          await testCase.run(subject, dir);
          assert.deepEqual(leftoverTemps(dir), [], "temp files left behind");
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      });
    }
  });
}
