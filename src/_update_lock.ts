/**
 * The lock of `updateFile` and `lockFile`: one writer of a file at a time,
 * within a process, across processes and across runtimes.
 *
 * On a file system the lock is the file `.NAME.lock` beside the target,
 * created exclusively and holding its owner (`TAG-PID-START`, see
 * `_process_owner.ts`) and a random nonce. A waiter that finds the owner dead
 * (same boot and pid namespace, pid gone or reused) breaks the lock at once;
 * an owner it cannot check (another host, no `/proc`) is taken for dead once
 * the lock's mtime is `STALE_AFTER` old, and a live holder touches it every
 * `REFRESH_EVERY`. In a browser (OPFS) the lock is a Web Lock, which a
 * context that dies drops.
 *
 * Waiters of one process queue in memory; only the first polls the file.
 *
 * The backends have no read or utime primitive yet, so the few reads and
 * touches here use the runtime directly (`node:fs` through
 * `getBuiltinModule`, so browser bundles import nothing).
 */

import type { Backend } from "./_backend.ts";
import { joinPath, splitPath } from "./_path.ts";
import { AtomicWriteError } from "./errors.ts";

/** A lock not refreshed for this long, by an owner nobody can check, is stale. */
export const STALE_AFTER = 10_000;
/** How often a holder touches its lock file. */
const REFRESH_EVERY = 3_000;
const FIRST_POLL = 5;
const LAST_POLL = 100;
const LOCK_SUFFIX = ".lock";

/** What `acquire` needs to know about the call. */
export interface LockRequest {
  /** The caller's path, named in errors. */
  path: string;
  backend: Backend;
  signal?: AbortSignal;
  /** Milliseconds to wait at most; Infinity waits until `signal`. */
  timeout: number;
  /** OPFS: the directory handle paths resolve against. */
  root?: unknown;
  /** Lock the link itself (`symlinks: "replace"`), not its final target. */
  linkItself?: boolean;
}

/** A held lock; `release` is idempotent. */
export interface HeldLock {
  release(): Promise<void>;
}

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

function isMissing(error: unknown): boolean {
  const { code, name } = error as { code?: string; name?: string };
  return code === "ENOENT" || name === "NotFound" || name === "NotFoundError";
}

function isTaken(error: unknown): boolean {
  const { code, name } = error as { code?: string; name?: string };
  return code === "EEXIST" || name === "AlreadyExists";
}

interface OpfsDirectory {
  getDirectoryHandle(name: string): Promise<OpfsDirectory>;
  getFileHandle(name: string): Promise<{ getFile(): Promise<Blob> }>;
}

async function readOpfs(
  path: string,
  root: unknown,
): Promise<Uint8Array | undefined> {
  let directory = (root ??
    await (globalThis as unknown as {
      navigator: { storage: { getDirectory(): Promise<unknown> } };
    }).navigator.storage.getDirectory()) as OpfsDirectory;
  const names = path.split("/").filter((name) => name !== "" && name !== ".");
  const last = names.pop() ?? "";
  try {
    for (const name of names) {
      directory = await directory.getDirectoryHandle(name);
    }
    const file = await (await directory.getFileHandle(last)).getFile();
    return new Uint8Array(await file.arrayBuffer());
  } catch (error) {
    if (isMissing(error) || (error as Error).name === "TypeMismatchError") {
      return undefined;
    }
    throw error;
  }
}

/** The content of `path`, or undefined if there is no such file. */
export async function readCurrent(
  path: string,
  backend: Backend,
  root: unknown,
): Promise<Uint8Array | undefined> {
  if (backend.name === "opfs") return await readOpfs(path, root);
  try {
    return await files().readFile(path);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

/** The rejection of an expired wait: an `AtomicWriteError`, step `"lock"`. */
function timedOut(path: string, timeout: number, holder: string) {
  const cause = Object.assign(
    new Error(`timed out after ${timeout} ms`),
    { code: "ETIMEDOUT" },
  );
  return new AtomicWriteError(
    path,
    "lock",
    cause,
    `timed out after ${timeout} ms waiting for the lock held by ${holder}`,
  );
}

/**
 * Resolves when `wake` is called or after `milliseconds` (Infinity: never),
 * or rejects at the deadline (with a timeout error) or on an abort (with the
 * signal's reason).
 */
function pause(
  milliseconds: number,
  request: LockRequest,
  deadline: number,
  holder: () => string,
  onWake?: (wake: () => void) => void,
): Promise<void> {
  const { signal } = request;
  signal?.throwIfAborted();
  const left = deadline - Date.now();
  if (left <= 0) throw timedOut(request.path, request.timeout, holder());
  return new Promise((resolve, reject) => {
    const wait = Math.min(milliseconds, left);
    const finish = (error?: unknown) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onAbort = () => finish(signal!.reason);
    const timer = Number.isFinite(wait)
      ? setTimeout(() =>
        finish(
          milliseconds >= left
            ? timedOut(request.path, request.timeout, holder())
            : undefined,
        ), wait)
      : undefined;
    signal?.addEventListener("abort", onAbort, { once: true });
    onWake?.(() => finish());
  });
}

/** The in-memory queue of one lock name: waiters of this process. */
interface Queue {
  waiters: Array<() => void>;
}
const queues = new Map<string, Queue>();

/**
 * Waits for this process's turn at `key`; returns the function that passes
 * the turn on. Waiters that time out or abort leave the queue.
 */
async function localTurn(
  key: string,
  request: LockRequest,
  deadline: number,
): Promise<() => void> {
  let queue = queues.get(key);
  if (!queue) {
    queues.set(key, queue = { waiters: [] });
    return next(key, queue);
  }
  const current = queue;
  let wake: (() => void) | undefined;
  try {
    await pause(
      Infinity,
      request,
      deadline,
      () => "this process",
      (resolve) => current.waiters.push(wake = resolve),
    );
  } catch (error) {
    const index = wake ? current.waiters.indexOf(wake) : -1;
    if (index !== -1) current.waiters.splice(index, 1);
    throw error;
  }
  return next(key, current);
}

/** Passes the turn to the next waiter, once. */
function next(key: string, queue: Queue): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    const wake = queue.waiters.shift();
    if (wake) wake();
    else queues.delete(key);
  };
}

/** Takes the lock of `target` (OPFS: a Web Lock; else the lock file). */
export async function acquire(
  target: string,
  request: LockRequest,
): Promise<HeldLock> {
  request.signal?.throwIfAborted();
  const deadline = Date.now() + request.timeout;
  const { backend } = request;
  if (backend.name === "opfs") return await webLock(target, request, deadline);
  const lockPath = await lockPathOf(target, request);
  const passTurn = await localTurn(lockPath, request, deadline);
  try {
    return await fileLock(lockPath, request, deadline, passTurn);
  } catch (error) {
    passTurn();
    throw error;
  }
}

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

interface WebLocks {
  request(
    name: string,
    options: { signal?: AbortSignal },
    callback: () => Promise<void>,
  ): Promise<void>;
}

/** The Web Lock of `target` (distinct from the writes' own lock). */
function webLock(
  target: string,
  request: LockRequest,
  deadline: number,
): Promise<HeldLock> {
  const locks = (globalThis as { navigator?: { locks?: WebLocks } }).navigator
    ?.locks;
  if (!locks) {
    throw new TypeError("Locked updates in OPFS need Web Locks");
  }
  const giveUp = new AbortController();
  const timer = Number.isFinite(deadline)
    ? setTimeout(
      () => giveUp.abort(timedOut(request.path, request.timeout, "a context")),
      Math.max(0, deadline - Date.now()),
    )
    : undefined;
  const onAbort = () => giveUp.abort(request.signal!.reason);
  request.signal?.addEventListener("abort", onAbort, { once: true });
  const stop = () => {
    clearTimeout(timer);
    request.signal?.removeEventListener("abort", onAbort);
  };
  const name = `atomic-write-update:${target.replace(/^\/+/, "")}`;
  return new Promise<HeldLock>((granted, failed) => {
    locks.request(name, { signal: giveUp.signal }, () => {
      stop();
      return new Promise<void>((release) =>
        granted({ release: () => Promise.resolve(release()) })
      );
    }).catch((error) => {
      stop();
      failed(giveUp.signal.aborted ? giveUp.signal.reason : error);
    });
  });
}
