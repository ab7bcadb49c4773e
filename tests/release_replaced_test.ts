/**
 * Issue 13 part 4: every file system backend (Node, Bun, and Deno through
 * `node:fs`) holds a large replaced file open across the rename, so that the
 * kernel frees its blocks and page cache when that descriptor is closed in
 * the thread pool, not in the rename on the caller's path. The descriptor
 * must always be closed: after the write and after a failed rename.
 * Linux only: open descriptors are read from /proc/self/fd.
 */

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import {
  RELEASE_IN_BACKGROUND_SIZE,
  renameReleasingReplaced,
} from "../src/backends/node.ts";
import type { Primitives } from "../src/_backend.ts";
import {
  availableBackends,
  createBackend,
  makeTempDir,
  nameWithSkipReason,
  subjectFor,
} from "./_helpers.ts";

const SKIP = process.platform !== "linux" && "needs /proc/self/fd (Linux)";

/** Where this process's open descriptors lead, for those under `directory`. */
function openUnder(directory: string): string[] {
  const targets: string[] = [];
  for (const fd of fs.readdirSync("/proc/self/fd")) {
    try {
      const target = fs.readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(directory + path.sep)) targets.push(target);
    } catch {
      // Closed since the listing (the listing's own descriptor).
    }
  }
  return targets;
}

/** Waits until nothing under `directory` is open (the background close). */
async function allClosed(directory: string): Promise<void> {
  for (let waited = 0; openUnder(directory).length > 0; waited += 10) {
    if (waited > 10_000) {
      assert.fail(`still open: ${openUnder(directory).join(", ")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A file of `size` bytes on disk (blocks allocated, fsynced). */
function syncedFile(file: string, size: number) {
  const fd = fs.openSync(file, "w");
  try {
    fs.writeSync(fd, new Uint8Array(size).fill(0x61));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function timed(action: () => void): number {
  const start = performance.now();
  action();
  return performance.now() - start;
}

/**
 * Replaces a 128 MiB file with `replace(target)` and another one with a plain
 * rename, best of three attempts (so that one stall of this shared machine
 * does not fail a test): whether `replace` took under a quarter of the plain
 * rename's time, and the times of each attempt. A plain rename frees the old
 * blocks and page cache in the call (~25 ms for 128 MiB here); held open,
 * the rename only unlinks.
 */
function fasterThanPlainRename(
  directory: string,
  replace: (target: string) => void,
): { faster: boolean; attempts: string[]; target: string } {
  const reference = path.join(directory, "reference");
  const target = path.join(directory, "target");
  const attempts: string[] = [];
  let faster = false;
  for (let attempt = 0; attempt < 3 && !faster; attempt++) {
    // Each with a new version beside it, for a rename to put in place.
    for (const file of [reference, target]) {
      syncedFile(file, 128 * 1024 * 1024);
      fs.writeFileSync(`${file}.new`, "new");
    }
    const inline = timed(() => fs.renameSync(`${reference}.new`, reference));
    const held = timed(() => replace(target));
    attempts.push(`${held.toFixed(2)} ms vs ${inline.toFixed(2)} ms`);
    faster = held * 4 < inline;
  }
  return { faster, attempts, target };
}

/** A file of `size` bytes without writing them (sparse). */
function sizedFile(file: string, size: number) {
  fs.writeFileSync(file, "old");
  fs.truncateSync(file, size);
}

// The Deno backend holds and closes through `node:fs` too (Deno's own close
// runs on the main thread).
const names = availableBackends();

for (const name of names) {
  describe(`${name} backend: the replaced file is released off the rename`, () => {
    const backend = createBackend(name);
    const primitives = backend.sync as Primitives;

    test(
      nameWithSkipReason(
        "the rename over a large file leaves freeing it to the background",
        SKIP,
      ),
      { skip: SKIP },
      async () => {
        const directory = makeTempDir();
        const { faster, attempts, target } = fasterThanPlainRename(
          directory,
          (target) => primitives.rename(`${target}.new`, target),
        );
        assert.ok(faster, `rename vs plain rename: ${attempts.join(", ")}`);
        assert.equal(fs.readFileSync(target, "utf8"), "new");
        await allClosed(directory);
        fs.rmSync(directory, { recursive: true });
      },
    );

    test(
      nameWithSkipReason(
        "writeFileSync over a large file leaves freeing it to the background too",
        SKIP,
      ),
      { skip: SKIP },
      async () => {
        // The protocol hands the rename the size its stat saw: a large one
        // must still be held (a wrong hint of 0 would free it in the call).
        const { api } = subjectFor(name, backend);
        const directory = makeTempDir();
        const { faster, attempts, target } = fasterThanPlainRename(
          directory,
          (target) => api.writeFileSync(target, "new", { durability: "none" }),
        );
        assert.ok(faster, `writeFileSync vs plain rename: ${attempts}`);
        assert.equal(fs.readFileSync(target, "utf8"), "new");
        await allClosed(directory);
        fs.rmSync(directory, { recursive: true });
      },
    );

    test(
      nameWithSkipReason(
        "a failed rename throws its own error and holds nothing",
        SKIP,
      ),
      { skip: SKIP },
      () => {
        const directory = makeTempDir();
        const target = path.join(directory, "target");
        sizedFile(target, RELEASE_IN_BACKGROUND_SIZE);
        assert.throws(
          () => primitives.rename(path.join(directory, "missing"), target),
          (error: { code?: string }) => error.code === "ENOENT",
        );
        assert.deepEqual(openUnder(directory), []);
        assert.equal(fs.statSync(target).size, RELEASE_IN_BACKGROUND_SIZE);
        fs.rmSync(directory, { recursive: true });
      },
    );

    test(
      nameWithSkipReason("writes over a large file leave nothing open", SKIP),
      { skip: SKIP },
      async () => {
        const { api } = subjectFor(name, backend);
        const directory = makeTempDir();
        const target = path.join(directory, "target");
        const data = new Uint8Array(RELEASE_IN_BACKGROUND_SIZE).fill(0x61);
        sizedFile(target, RELEASE_IN_BACKGROUND_SIZE);
        for (const durability of ["none", "file", "full"] as const) {
          await api.writeFile(target, data, { durability });
          api.writeFileSync(target, data.subarray(1), { durability });
        }
        await allClosed(directory);
        assert.equal(fs.statSync(target).size, data.length - 1);
        assert.deepEqual(fs.readdirSync(directory), ["target"]);
        fs.rmSync(directory, { recursive: true });
      },
    );
  });
}

test("a replaced size known to be small spares the rename its lstat", () => {
  const directory = makeTempDir();
  const target = path.join(directory, "target");
  let lstats = 0;
  const counting = {
    ...fs,
    lstatSync: ((...args: Parameters<typeof fs.lstatSync>) => {
      lstats++;
      return fs.lstatSync(...args);
    }) as typeof fs.lstatSync,
  } as typeof fs;
  const renameWith = (replacedSize?: number) => {
    fs.writeFileSync(`${target}.new`, "new");
    renameReleasingReplaced(counting, `${target}.new`, target, replacedSize);
  };
  renameWith(3);
  renameWith(0);
  assert.equal(lstats, 0, "small or nothing: not looked at again");
  renameWith(undefined);
  renameWith(RELEASE_IN_BACKGROUND_SIZE);
  assert.equal(lstats, 2, "unknown or large: looked at");
  assert.equal(fs.readFileSync(target, "utf8"), "new");
  fs.rmSync(directory, { recursive: true });
});
