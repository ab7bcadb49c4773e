/**
 * Keeps writes from failing because the process ran out of file descriptors
 * for a moment (EMFILE; ENFILE for the whole system). Two parts:
 *
 * - A process-wide bound: a `writeFile` / `writeTextFile` whose data needs no
 *   caller code to arrive takes one of `MAX_OPEN_WRITES` slots for its
 *   protocol run (which holds at most one descriptor at a time: the temp
 *   file, later the directory for its fsync) and waits, in call order, when
 *   all are taken. Streams and `openAtomic` never wait: their duration is the
 *   caller's, and a caller who holds many could deadlock itself.
 * - A retry: any call that still fails with EMFILE or ENFILE (those that do
 *   not wait, directory opens, descriptors held by other code) is made again
 *   after an exponential backoff, for up to `RETRY_BUDGET_MS` in all.
 *
 * The synchronous API uses neither: it cannot wait for other writes (they
 * run on the thread it would block), so it reports EMFILE at once.
 */

import { errorCode } from "./_errno.ts";

/**
 * Writes that may hold a descriptor at once. 64 keeps 2,000 parallel writes
 * far below the usual limit of 1,024 (256 on macOS) and measured as fast as
 * no bound for many small writes: the thread pools that do the I/O have 4
 * (libuv) to a few dozen threads, so more writes in flight only queue there.
 */
export const MAX_OPEN_WRITES = 64;

/** How long a call short of descriptors is retried before it fails. */
export const RETRY_BUDGET_MS = 5_000;
const FIRST_DELAY_MS = 1;
const MAX_DELAY_MS = 250;

/** A counting semaphore whose waiters are served first come, first served. */
export class Slots {
  #free: number;
  /** Each resolves its waiter's promise, handing it a slot. */
  #waiters: (() => void)[] = [];

  constructor(size: number) {
    this.#free = size;
  }

  /** Waiters not yet served. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Takes a slot: undefined if one was free (no promise to wait for),
   * otherwise a promise that resolves with the slot, or rejects with the
   * signal's reason (without a slot) as soon as it is aborted.
   */
  acquire(signal?: AbortSignal): Promise<void> | undefined {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#free > 0) {
      this.#free--;
      return undefined;
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(signal!.reason);
      };
      const waiter = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Gives a slot back: to the longest waiter, if any. */
  release(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#free++;
  }
}

/** The process's slots: every API instance and backend shares them. */
export const writeSlots: Slots = new Slots(MAX_OPEN_WRITES);

/** Whether an error says that descriptors ran out. */
export function isDescriptorShortage(error: unknown): boolean {
  const code = errorCode(error);
  return code === "EMFILE" || code === "ENFILE";
}

/**
 * Makes a call; when it fails for lack of descriptors, makes it again after
 * 1, 2, 4 ... 250 ms (with jitter, so that many waiting calls do not retry
 * together) until `RETRY_BUDGET_MS` have passed, then gives its last error.
 * A result that came at once is returned as it came: a synchronous value
 * stays synchronous. An abort of `signal` ends a backoff at once.
 */
export function retryOnDescriptorShortage(
  call: () => unknown,
  signal?: AbortSignal,
): unknown {
  let value: unknown;
  try {
    value = call();
  } catch (error) {
    if (!isDescriptorShortage(error)) throw error;
    return retry(call, error, signal);
  }
  if (!(value instanceof Promise)) return value;
  return value.catch((error) => {
    if (!isDescriptorShortage(error)) throw error;
    return retry(call, error, signal);
  });
}

async function retry(
  call: () => unknown,
  error: unknown,
  signal: AbortSignal | undefined,
): Promise<unknown> {
  const deadline = Date.now() + RETRY_BUDGET_MS;
  for (let attempt = 0;; attempt++) {
    const left = deadline - Date.now();
    if (left <= 0) throw error;
    const backoff = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** attempt);
    await sleep(Math.min(left, backoff * (0.5 + Math.random())), signal);
    try {
      return await call();
    } catch (next) {
      if (!isDescriptorShortage(next)) throw next;
      error = next;
    }
  }
}

function sleep(milliseconds: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, milliseconds);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
