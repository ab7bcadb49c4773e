/**
 * Issue 12, parts 2 and 3: a target that is itself a mount point (a
 * bind-mounted file, as Docker, Flatpak and Kubernetes ConfigMaps make),
 * and the retry policy for renames and unlinks that fail with
 * EPERM/EACCES/EBUSY (Windows antivirus and indexers), tested through a
 * backend that injects those errors. Run against every backend this runtime
 * hosts; the mount cases need root and `mount --bind`.
 */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import type { Backend } from "../src/_backend.ts";
import { tempName } from "../src/_path.ts";
import {
  availableBackends,
  createBackend,
  IS_ROOT,
  leftoverTemps,
  makeTempDir,
  nameWithSkipReason,
  rejectsWith,
  subjectFor,
} from "./_helpers.ts";

const text = (file: string) => fs.readFileSync(file, "utf8");

async function throwsArgumentError(
  action: () => unknown,
  type: typeof TypeError | typeof RangeError,
  pattern: RegExp,
): Promise<void> {
  let caught: unknown;
  try {
    await action();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof type, `expected a ${type.name}, got ${caught}`);
  assert.match((caught as Error).message, pattern);
}

// ------------------------------------------------------------ bind mounts

function mount(source: string, target: string): void {
  execFileSync("mount", ["--bind", source, target], { stdio: "pipe" });
}

function unmount(target: string): void {
  execFileSync("umount", [target], { stdio: "pipe" });
}

/** Why the mount cases cannot run here, or undefined when they can. */
function mountSkipReason(): string | undefined {
  if (!IS_ROOT) return "needs root for mount --bind";
  const dir = makeTempDir("aw-mount-probe-");
  try {
    fs.writeFileSync(path.join(dir, "a"), "");
    fs.writeFileSync(path.join(dir, "b"), "");
    mount(path.join(dir, "a"), path.join(dir, "b"));
    unmount(path.join(dir, "b"));
    return undefined;
  } catch (error) {
    const stderr = (error as { stderr?: Uint8Array }).stderr;
    return `mount --bind failed: ${
      stderr ? new TextDecoder().decode(stderr).trim() : String(error)
    }`;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const MOUNT_SKIP = mountSkipReason();

/**
 * A directory holding `target.conf`, a bind mount of `source.conf` (mode
 * 0o640, content "old content, longer than the new"), unmounted by `done`.
 */
function mountedTarget() {
  const dir = makeTempDir("aw-mount-");
  const source = path.join(dir, "source.conf");
  const target = path.join(dir, "target.conf");
  fs.writeFileSync(source, "old content, longer than the new");
  fs.chmodSync(source, 0o640);
  fs.writeFileSync(target, "");
  mount(source, target);
  return {
    dir,
    source,
    target,
    inode: fs.statSync(target).ino,
    done() {
      try {
        unmount(target);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

for (const name of availableBackends()) {
  const { api } = subjectFor(name, createBackend(name));
  const mountTest = (title: string, fn: () => Promise<void>) =>
    test(nameWithSkipReason(title, MOUNT_SKIP), { skip: MOUNT_SKIP }, fn);

  describe(`bind-mounted target (${name} backend)`, () => {
    mountTest(
      "by default a bind-mounted target is a rename error naming the option; target unchanged, no temp left",
      async () => {
        const m = mountedTarget();
        try {
          const error = await rejectsWith(
            api.writeFile(m.target, "new"),
            "rename",
            "EBUSY",
          );
          assert.match(error.message, /mount point/);
          assert.match(error.message, /mountedTarget: "copy"/);
          assert.equal(text(m.target), "old content, longer than the new");
          assert.deepEqual(leftoverTemps(m.dir), []);
          const sync = await rejectsWith(
            () => api.writeFileSync(m.target, "new"),
            "rename",
            "EBUSY",
          );
          assert.match(sync.message, /mountedTarget: "copy"/);
          assert.equal(text(m.target), "old content, longer than the new");
          assert.deepEqual(leftoverTemps(m.dir), []);
        } finally {
          m.done();
        }
      },
    );

    mountTest(
      'mountedTarget: "copy" writes a bind-mounted target in place: same inode, mode kept, no temp left',
      async () => {
        const m = mountedTarget();
        try {
          await api.writeFile(m.target, "new", { mountedTarget: "copy" });
          assert.equal(text(m.target), "new");
          // The same inode: the mount's source file holds the new content.
          assert.equal(text(m.source), "new");
          assert.equal(fs.statSync(m.target).ino, m.inode);
          assert.equal(fs.statSync(m.target).mode & 0o7777, 0o640);
          assert.deepEqual(leftoverTemps(m.dir), []);

          api.writeFileSync(m.target, "sync", { mountedTarget: "copy" });
          assert.equal(text(m.target), "sync");
          await api.writeFile(m.target, " appended", {
            mountedTarget: "copy",
            append: true,
          });
          assert.equal(text(m.target), "sync appended");
          const file = await api.openAtomic(m.target, {
            mountedTarget: "copy",
          });
          await file.write("from openAtomic");
          await file.commit();
          assert.equal(text(m.target), "from openAtomic");
          assert.equal(fs.statSync(m.target).ino, m.inode);
          assert.equal(fs.statSync(m.target).mode & 0o7777, 0o640);
          assert.deepEqual(leftoverTemps(m.dir), []);
        } finally {
          m.done();
        }
      },
    );

    test('mountedTarget: "copy" on a normal target still renames (a new inode)', async () => {
      const dir = makeTempDir();
      const file = path.join(dir, "plain.conf");
      fs.writeFileSync(file, "old");
      const before = fs.statSync(file).ino;
      await api.writeFile(file, "new", { mountedTarget: "copy" });
      assert.equal(text(file), "new");
      assert.notEqual(fs.statSync(file).ino, before);
      const second = fs.statSync(file).ino;
      api.writeFileSync(file, "newer", { mountedTarget: "copy" });
      assert.notEqual(fs.statSync(file).ino, second);
      assert.deepEqual(leftoverTemps(dir), []);
    });
  });
}

// ------------------------------------------------------------ retry policy

interface Injected {
  /** Renames still to fail with `code`. */
  renameFailures: number;
  /** Unlinks still to fail with `removeCode`. */
  removeFailures: number;
  code: string;
  removeCode: string;
  renameCalls: number;
  removeCalls: number;
}

/**
 * The backend with renames and unlinks that fail while `injected` says so,
 * as a virus scanner holding the file makes them fail on Windows. Both the
 * synchronous and the asynchronous primitives are wrapped. `windowsLike`
 * sets the capability that gives Windows its default retries.
 */
function flakyBackend(
  base: Backend,
  windowsLike = false,
): { backend: Backend; injected: Injected } {
  const injected: Injected = {
    renameFailures: 0,
    removeFailures: 0,
    code: "EPERM",
    removeCode: "EPERM",
    renameCalls: 0,
    removeCalls: 0,
  };
  const busy = (code = injected.code) =>
    Object.assign(new Error(`injected ${code}`), { code });
  const syncPrimitives = base.sync!;
  const backend: Backend = {
    ...base,
    name: base.name,
    capabilities: {
      ...base.capabilities,
      retryBusyRename: windowsLike || base.capabilities.retryBusyRename,
    },
    sync: {
      ...syncPrimitives,
      rename(from, to) {
        injected.renameCalls++;
        if (injected.renameFailures-- > 0) throw busy();
        return syncPrimitives.rename(from, to);
      },
      remove(file) {
        injected.removeCalls++;
        if (injected.removeFailures-- > 0) throw busy(injected.removeCode);
        return syncPrimitives.remove(file);
      },
    },
    async: {
      ...base.async,
      rename(from, to) {
        injected.renameCalls++;
        if (injected.renameFailures-- > 0) return Promise.reject(busy());
        return base.async.rename(from, to);
      },
      remove(file) {
        injected.removeCalls++;
        if (injected.removeFailures-- > 0) {
          return Promise.reject(busy(injected.removeCode));
        }
        return base.async.remove(file);
      },
    },
  };
  return { backend, injected };
}

/** Bounds asserted on measured durations: timers are late, never early. */
const LATE = 400;
const measured: Record<string, number> = {};
after(() => console.log(`retry timings (ms): ${JSON.stringify(measured)}`));

for (const name of availableBackends()) {
  describe(`busyRetry (${name} backend)`, () => {
    test("succeeds after attempts - 1 busy renames, fails with the rename's code after all of them", async () => {
      for (const code of ["EPERM", "EACCES", "EBUSY"]) {
        const dir = makeTempDir();
        const file = path.join(dir, "target.txt");
        fs.writeFileSync(file, "old");
        const { backend, injected } = flakyBackend(createBackend(name));
        const { api } = subjectFor(name, backend);
        injected.code = code;
        injected.renameFailures = 4;
        await api.writeFile(file, "after 4", { busyRetry: { attempts: 5 } });
        assert.equal(text(file), "after 4");
        assert.equal(injected.renameCalls, 5);

        injected.renameCalls = 0;
        injected.renameFailures = 5;
        await rejectsWith(
          api.writeFile(file, "never", { busyRetry: { attempts: 5 } }),
          "rename",
          code,
        );
        assert.equal(injected.renameCalls, 5);
        assert.equal(text(file), "after 4");
        assert.deepEqual(leftoverTemps(dir), []);

        // The synchronous variant sleeps between its attempts too.
        injected.renameCalls = 0;
        injected.renameFailures = 2;
        api.writeFileSync(file, "sync after 2", {
          busyRetry: { attempts: 3 },
        });
        assert.equal(text(file), "sync after 2");
        assert.equal(injected.renameCalls, 3);
        injected.renameFailures = 3;
        await rejectsWith(
          () =>
            api.writeFileSync(file, "never", { busyRetry: { attempts: 3 } }),
          "rename",
          code,
        );
        assert.equal(text(file), "sync after 2");
        assert.deepEqual(leftoverTemps(dir), []);
      }
    });

    test("by default no retry outside Windows; busyRetry: false disables the Windows default", async () => {
      const dir = makeTempDir();
      const file = path.join(dir, "target.txt");
      fs.writeFileSync(file, "old");
      const plain = flakyBackend(createBackend(name));
      plain.injected.renameFailures = 1;
      await rejectsWith(
        subjectFor(name, plain.backend).api.writeFile(file, "x"),
        "rename",
        "EPERM",
      );
      assert.equal(plain.injected.renameCalls, 1);

      const windows = flakyBackend(createBackend(name), true);
      windows.injected.renameFailures = 1;
      await rejectsWith(
        subjectFor(name, windows.backend).api.writeFile(file, "x", {
          busyRetry: false,
        }),
        "rename",
        "EPERM",
      );
      assert.equal(windows.injected.renameCalls, 1);
      assert.equal(text(file), "old");
      assert.deepEqual(leftoverTemps(dir), []);
    });

    test("the Windows default: 8 attempts, about 1.3 s", async () => {
      const dir = makeTempDir();
      const file = path.join(dir, "target.txt");
      fs.writeFileSync(file, "old");
      const { backend, injected } = flakyBackend(createBackend(name), true);
      const { api } = subjectFor(name, backend);
      injected.renameFailures = 7;
      await api.writeFile(file, "after 7");
      assert.equal(text(file), "after 7");
      injected.renameCalls = 0;
      injected.renameFailures = 100;
      const start = performance.now();
      await rejectsWith(api.writeFile(file, "never"), "rename", "EPERM");
      const elapsed = performance.now() - start;
      measured[`${name}: Windows default, exhausted`] = Math.round(elapsed);
      assert.equal(injected.renameCalls, 8);
      // 10 + 20 + ... + 640 ms of waiting between the 8 attempts.
      assert.ok(elapsed >= 1270 && elapsed < 1270 + LATE, `${elapsed} ms`);
      assert.equal(text(file), "after 7");
    });

    test("totalTime bounds the time spent retrying", async () => {
      const dir = makeTempDir();
      const file = path.join(dir, "target.txt");
      fs.writeFileSync(file, "old");
      const { backend, injected } = flakyBackend(createBackend(name));
      const { api } = subjectFor(name, backend);
      const busyRetry = { attempts: 1000, totalTime: 300 };
      injected.renameFailures = Infinity;
      let start = performance.now();
      await rejectsWith(
        api.writeFile(file, "never", { busyRetry }),
        "rename",
        "EPERM",
      );
      let elapsed = performance.now() - start;
      measured[`${name}: totalTime 300, async`] = Math.round(elapsed);
      assert.ok(elapsed >= 300 && elapsed < 300 + LATE, `${elapsed} ms`);
      // 10, 20, 40, 80, 150 (what is left of the 300 ms): 6 attempts.
      assert.equal(injected.renameCalls, 6);

      injected.renameCalls = 0;
      start = performance.now();
      await rejectsWith(
        () => api.writeFileSync(file, "never", { busyRetry }),
        "rename",
        "EPERM",
      );
      elapsed = performance.now() - start;
      measured[`${name}: totalTime 300, sync`] = Math.round(elapsed);
      assert.ok(elapsed >= 300 && elapsed < 300 + LATE, `${elapsed} ms`);
      assert.equal(injected.renameCalls, 6);

      // Delays double up to 1 s each: attempts alone bound the time.
      injected.renameCalls = 0;
      start = performance.now();
      await rejectsWith(
        api.writeFile(file, "never", { busyRetry: { attempts: 4 } }),
        "rename",
        "EPERM",
      );
      elapsed = performance.now() - start;
      measured[`${name}: attempts 4, no totalTime`] = Math.round(elapsed);
      assert.ok(elapsed >= 70 && elapsed < 70 + LATE, `${elapsed} ms`);
      assert.equal(text(file), "old");
      assert.deepEqual(leftoverTemps(dir), []);
    });

    test("only EPERM, EACCES and EBUSY are retried", async () => {
      const dir = makeTempDir();
      const file = path.join(dir, "target.txt");
      fs.writeFileSync(file, "old");
      const { backend, injected } = flakyBackend(createBackend(name));
      const { api } = subjectFor(name, backend);
      injected.code = "EIO";
      injected.renameFailures = 1;
      await rejectsWith(
        api.writeFile(file, "x", { busyRetry: { attempts: 5 } }),
        "rename",
        "EIO",
      );
      assert.equal(injected.renameCalls, 1);
      assert.equal(text(file), "old");
    });

    test("the temp file's unlink after a failure is retried too", async () => {
      const dir = makeTempDir();
      const file = path.join(dir, "target.txt");
      fs.writeFileSync(file, "old");
      const { backend, injected } = flakyBackend(createBackend(name));
      const { api } = subjectFor(name, backend);
      // A rename that fails for good (EIO), then an unlink busy twice.
      injected.code = "EIO";
      injected.renameFailures = 1;
      injected.removeCode = "EBUSY";
      injected.removeFailures = 2;
      await rejectsWith(
        api.writeFile(file, "x", { busyRetry: { attempts: 3 } }),
        "rename",
        "EIO",
      );
      assert.equal(injected.removeCalls, 3);
      assert.deepEqual(leftoverTemps(dir), []);

      // Without retries the busy unlink leaves the temp file behind (the
      // write's error is still the rename's).
      injected.renameFailures = 1;
      injected.removeCalls = 0;
      injected.removeFailures = 1;
      await rejectsWith(api.writeFile(file, "y"), "rename", "EIO");
      assert.equal(injected.removeCalls, 1);
      assert.equal(leftoverTemps(dir).length, 1);
      assert.equal(text(file), "old");
    });

    test("cleanupTemps retries a busy unlink", async () => {
      const dir = makeTempDir();
      const stale = path.join(dir, tempName("target.txt"));
      fs.writeFileSync(stale, "left by a crash");
      const { backend, injected } = flakyBackend(createBackend(name));
      const { api } = subjectFor(name, backend);
      injected.removeFailures = 2;
      const removed = await api.cleanupTemps(dir, {
        olderThan: 0,
        busyRetry: { attempts: 3 },
      });
      assert.deepEqual(removed, [stale]);
      assert.equal(injected.removeCalls, 3);

      fs.writeFileSync(stale, "left by a crash");
      injected.removeCalls = 0;
      injected.removeFailures = 1;
      await rejectsWith(
        api.cleanupTemps(dir, { olderThan: 0 }),
        "cleanup",
        "EPERM",
      );
      assert.equal(injected.removeCalls, 1);
    });

    test("busyRetry and mountedTarget are checked before anything is touched", async () => {
      const { api } = subjectFor(name, createBackend(name));
      const dir = makeTempDir();
      const file = path.join(dir, "target.txt");
      const write = (options: unknown) => () =>
        api.writeFile(file, "x", options as never);
      await throwsArgumentError(
        write({ busyRetry: 3 }),
        TypeError,
        /Expected option "busyRetry" to be \{ attempts, totalTime\? \} or false, got number 3/,
      );
      await throwsArgumentError(
        write({ busyRetry: true }),
        TypeError,
        /"busyRetry"/,
      );
      for (const attempts of [0, 1.5, -1, Infinity, NaN, undefined]) {
        await throwsArgumentError(
          write({ busyRetry: { attempts } }),
          RangeError,
          /Expected option "busyRetry\.attempts" to be an integer from 1 to 1000/,
        );
      }
      for (const totalTime of [-1, NaN, Infinity, "100"]) {
        await throwsArgumentError(
          write({ busyRetry: { attempts: 2, totalTime } }),
          RangeError,
          /Expected option "busyRetry\.totalTime" to be a non-negative finite number of milliseconds/,
        );
      }
      await throwsArgumentError(
        write({ busyRetry: { attempts: 2, retries: 2 } }),
        TypeError,
        /Unknown key "retries" in option "busyRetry"/,
      );
      await throwsArgumentError(
        write({ mountedTarget: "inPlace" }),
        TypeError,
        /Expected option "mountedTarget" to be "error" or "copy", got "inPlace"/,
      );
      await throwsArgumentError(
        () => api.cleanupTemps(dir, { mountedTarget: "copy" } as never),
        TypeError,
        /Option "mountedTarget" is not supported by cleanupTemps/,
      );
      await throwsArgumentError(
        () => api.writeFileSync(file, "x", { busyRetry: { attempts: 0 } }),
        RangeError,
        /busyRetry\.attempts/,
      );
      assert.equal(fs.existsSync(file), false);
      assert.deepEqual(leftoverTemps(dir), []);
    });
  });
}
