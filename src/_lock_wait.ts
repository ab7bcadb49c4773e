/**
 * What the locks of `updateFile` and `lockFile` share: the request, the held
 * lock, the timeout error, and the wait (a pause that honours the deadline
 * and the signal, and the in-memory queue of one process's waiters). The
 * locks themselves are in `_file_lock.ts` (file systems) and `_web_lock.ts`
 * (OPFS), so that a browser bundle holds only the Web Lock.
 */

import type { Backend } from "./_backend.ts";
import { AtomicWriteError } from "./errors.ts";

/** What a lock needs to know about the call. */
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

/** A kind of lock, and how to read the file it guards. */
export interface Locking {
  /** Takes the lock of `target`. */
  acquire(target: string, request: LockRequest): Promise<HeldLock>;
  /** The content of `path`, or undefined if there is no such file. */
  read(path: string, request: LockRequest): Promise<Uint8Array | undefined>;
}

/** Whether an error says that a file is missing, in any runtime. */
export function isMissing(error: unknown): boolean {
  const { code, name } = error as { code?: string; name?: string };
  return code === "ENOENT" || name === "NotFound" || name === "NotFoundError";
}

/** The rejection of an expired wait: an `AtomicWriteError`, step `"lock"`. */
export function timedOut(path: string, timeout: number, holder: string) {
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
export function pause(
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
export async function localTurn(
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
