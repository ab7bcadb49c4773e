/**
 * The lock of `updateFile` and `lockFile` on a file system: one holder of a
 * file at a time, within a process, across processes and across runtimes.
 *
 * The lock is the file `.NAME.lock` beside the target, created exclusively
 * and holding its owner (`TAG-PID-START`, see `_process_owner.ts`) and a
 * random nonce. A waiter that finds the owner dead (same boot and pid
 * namespace, pid gone or reused) breaks the lock at once; an owner it cannot
 * check (another host, no `/proc`) is taken for dead once the lock's mtime is
 * `STALE_AFTER` old, and a live holder touches it every `REFRESH_EVERY`.
 * Waiters of one process queue in memory; only the first polls the file.
 *
 * The backends have no read or utime primitive yet, so the few reads and
 * touches here use the runtime directly (`node:fs` through
 * `getBuiltinModule`).
 */

import type { Backend } from "./_backend.ts";
import { joinPath, splitPath } from "./_path.ts";
import {
  type HeldLock,
  isMissing,
  localTurn,
  type Locking,
  type LockRequest,
  pause,
} from "./_lock_wait.ts";
import { AtomicWriteError } from "./errors.ts";

/** A lock not refreshed for this long, by an owner nobody can check, is stale. */
export const STALE_AFTER = 10_000;
/** How often a holder touches its lock file. */
const REFRESH_EVERY = 3_000;
const FIRST_POLL = 5;
const LAST_POLL = 100;
const LOCK_SUFFIX = ".lock";

type NodeFsPromises = {
  readFile(path: string): Promise<Uint8Array>;
  utimes(path: string, atime: Date, mtime: Date): Promise<void>;
};

interface RuntimeFiles {
  readFile(path: string): Promise<Uint8Array>;
  touch(path: string): Promise<void>;
}

let runtimeFiles: RuntimeFiles | undefined;

/** `Deno`'s file API in Deno, `node:fs` in Node and Bun. */
function files(): RuntimeFiles {
  if (runtimeFiles) return runtimeFiles;
  const deno = (globalThis as { Deno?: typeof Deno }).Deno;
  if (deno) {
    return runtimeFiles = {
      readFile: (path) => deno.readFile(path),
      touch: (path) => deno.utime(path, new Date(), new Date()),
    };
  }
  const process = (globalThis as {
    process?: { getBuiltinModule?: (name: "node:fs") => unknown };
  }).process;
  const fs = (process?.getBuiltinModule?.("node:fs") as
    | { promises: NodeFsPromises }
    | undefined)?.promises;
  if (!fs) throw new TypeError("Locked updates need Deno, Bun or Node");
  return runtimeFiles = {
    readFile: (path) => fs.readFile(path),
    touch: (path) => fs.utimes(path, new Date(), new Date()),
  };
}

function isTaken(error: unknown): boolean {
  const { code, name } = error as { code?: string; name?: string };
  return code === "EEXIST" || name === "AlreadyExists";
}

/** The lock file protocol, for the Deno, Bun and Node backends. */
export const fileLocking: Locking = {
  async acquire(target, request): Promise<HeldLock> {
    request.signal?.throwIfAborted();
    const deadline = Date.now() + request.timeout;
    const lockPath = await lockPathOf(target, request);
    const passTurn = await localTurn(lockPath, request, deadline);
    try {
      return await fileLock(lockPath, request, deadline, passTurn);
    } catch (error) {
      passTurn();
      throw error;
    }
  },
  async read(path) {
    try {
      return await files().readFile(path);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  },
};

/** `.NAME.lock` beside the file that a write to `target` would replace. */
async function lockPathOf(
  target: string,
  request: LockRequest,
): Promise<string> {
  const primitives = request.backend.async;
  const { directory, name } = splitPath(target);
  let resolved: string;
  try {
    resolved = request.linkItself
      ? joinPath(await primitives.realPath(directory || "."), name)
      : await primitives.realPath(target);
  } catch (error) {
    if (!isMissing(error)) throw new AtomicWriteError(target, "lock", error);
    try {
      resolved = joinPath(await primitives.realPath(directory || "."), name);
    } catch (error) {
      throw new AtomicWriteError(target, "lock", error);
    }
  }
  const parts = splitPath(resolved);
  return joinPath(parts.directory, `.${parts.name}${LOCK_SUFFIX}`);
}

function randomNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A temp-file name carrying `owner`, for the backend's `writerAlive`. */
function asTempName(lockPath: string, owner: string): string {
  return `${lockPath}.${owner}.0000000000000000.atomic-tmp`;
}

async function fileLock(
  lockPath: string,
  request: LockRequest,
  deadline: number,
  passTurn: () => void,
): Promise<HeldLock> {
  const { backend, path } = request;
  const primitives = backend.async;
  const owner = backend.capabilities.tempOwner?.() ?? "unknown";
  const content = `${owner} ${randomNonce()}\n`;
  let delay = FIRST_POLL;
  let holder = "another process";
  while (true) {
    try {
      const handle = await primitives.createTemp(lockPath, {
        mode: 0o666,
        target: lockPath,
      });
      try {
        await primitives.write(handle, new TextEncoder().encode(content));
      } finally {
        await primitives.close(handle);
      }
      break;
    } catch (error) {
      if (!isTaken(error)) throw new AtomicWriteError(path, "lock", error);
    }
    const found = await readLock(lockPath);
    if (found !== undefined) {
      holder = found.split(" ")[0] || "an unknown process";
      if (await isStale(lockPath, found, backend)) {
        await breakStale(lockPath, found, backend);
        continue;
      }
    }
    await pause(delay, request, deadline, () => holder);
    delay = Math.min(delay * 2, LAST_POLL);
  }
  const refresh = setInterval(() => {
    files().touch(lockPath).catch(() => {});
  }, REFRESH_EVERY);
  // A lock must not keep a process alive that has nothing else to do.
  (refresh as { unref?: () => void }).unref?.();
  let released: Promise<void> | undefined;
  return {
    release: () =>
      released ??= (async () => {
        clearInterval(refresh);
        try {
          // Only our own lock: one broken as stale may be another's by now.
          if (await readLock(lockPath) === content) {
            await primitives.remove(lockPath);
          }
        } catch (error) {
          if (!isMissing(error)) {
            throw new AtomicWriteError(path, "lock", error);
          }
        } finally {
          passTurn();
        }
      })(),
  };
}

async function readLock(lockPath: string): Promise<string | undefined> {
  try {
    return new TextDecoder().decode(await files().readFile(lockPath));
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

/**
 * A lock whose owner is known dead, or, when nobody can tell, one not
 * touched for `STALE_AFTER` (an empty one is being written, or its writer
 * died between create and write).
 */
async function isStale(
  lockPath: string,
  content: string,
  backend: Backend,
): Promise<boolean> {
  const owner = content.split(" ")[0];
  if (content.endsWith("\n") && owner !== "unknown") {
    const alive = await backend.async.writerAlive?.(
      asTempName(lockPath, owner),
    );
    if (alive !== undefined) return !alive;
  }
  const info = await backend.async.lstat(lockPath);
  return info !== undefined && Date.now() - info.mtimeMs > STALE_AFTER;
}

/**
 * Removes a stale lock without removing a fresh one that replaced it since
 * it was read: it is moved to a unique name, checked there, and put back
 * (never over a newer lock) if it was not the stale one.
 */
async function breakStale(
  lockPath: string,
  content: string,
  backend: Backend,
): Promise<void> {
  const primitives = backend.async;
  const aside = `${lockPath}.${randomNonce()}.stale`;
  try {
    await primitives.rename(lockPath, aside);
  } catch (error) {
    if (isMissing(error)) return;
    throw error;
  }
  if (await readLock(aside) === content || !primitives.link) {
    await primitives.remove(aside);
    return;
  }
  try {
    await primitives.link(aside, lockPath);
  } catch {
    // A newer lock is there already: the one moved aside is lost, and its
    // holder's release finds it is not its own. Rare: two breakers at once.
  }
  await primitives.remove(aside);
}
