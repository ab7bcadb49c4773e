/**
 * Runs protocol steps (`_protocol.ts`) against a backend, synchronously or
 * asynchronously. Maps every backend error to an `AtomicWriteError` naming the
 * step, and turns aborts and supersession into errors thrown into the
 * protocol, so that its own cleanup runs.
 */

import type { Backend, Primitives } from "./_backend.ts";
import { retryOnDescriptorShortage, writeSlots } from "./_descriptor_limit.ts";
import type { Op, Steps } from "./_protocol.ts";
import { type Remover, trackTemp, untrackTemp } from "./_exit_cleanup.ts";
import { directorySyncs } from "./_group_commit.ts";
import { AtomicWriteError } from "./errors.ts";

/** Per-run context: what the driver checks between operations. */
export interface RunContext {
  /** The caller's path, named in errors. */
  path: string;
  signal?: AbortSignal;
  /** Asked at the commit point: false means a newer write already won. */
  shouldCommit?: () => boolean;
  /**
   * Hold one of the process's write slots (`_descriptor_limit.ts`) for the
   * run, waiting for one if all are taken. Only for runs whose duration the
   * caller does not control: one who holds pending files could deadlock.
   */
  waitForSlot?: boolean;
  /**
   * The directory this run will fsync after its rename, announced when the
   * run starts so that concurrent writes into it can share that fsync
   * (`_group_commit.ts`). Only for runs whose pace the caller does not
   * control: a stream's writer would hold up the others' fsync.
   */
  directorySync?: string;
}

/** Thrown into the protocol when a newer write made this one pointless. */
export class Superseded extends Error {
  constructor() {
    super("superseded by a newer write");
    this.name = "Superseded";
  }
}

type Outcome = { value: unknown } | { error: unknown };

function wrap(context: RunContext, op: Op, error: unknown): unknown {
  if (error instanceof AtomicWriteError || error instanceof Superseded) {
    return error;
  }
  if (op.kind === "call") {
    return new AtomicWriteError(context.path, op.step, error);
  }
  if (op.kind === "next") {
    return new AtomicWriteError(context.path, "data", error);
  }
  if (op.kind === "blob") {
    return new AtomicWriteError(context.path, "write", error);
  }
  return error;
}

function invoke(primitives: object, name: string, args: unknown[]): unknown {
  return (primitives as Record<string, (...a: unknown[]) => unknown>)[name](
    ...args,
  );
}

type Call = Extract<Op, { kind: "call" }>;

/**
 * Makes one primitive call and keeps the exit cleanup's list of temp files
 * on disk current. A temp file is tracked from before its create (the file
 * exists before an asynchronous create settles) until a successful rename
 * or a remove; `remover` is absent where there is no synchronous unlink to
 * make at exit (OPFS, which has no exit either).
 */
function callTracked(
  primitives: object,
  op: Call,
  remover: Remover | undefined,
): unknown {
  const { name, args } = op;
  if (
    !remover ||
    (name !== "createTemp" && name !== "rename" && name !== "remove")
  ) {
    return invoke(primitives, name, args);
  }
  const path = args[0] as string;
  if (name === "createTemp") trackTemp(path, remover);
  // A failed create made no file; a failed remove is not retried at exit.
  const settle = (ok: boolean) => {
    if (ok ? name !== "createTemp" : name !== "rename") untrackTemp(path);
  };
  let value: unknown;
  try {
    value = invoke(primitives, name, args);
  } catch (error) {
    settle(false);
    throw error;
  }
  if (!(value instanceof Promise)) {
    settle(true);
    return value;
  }
  return value.then((result) => {
    settle(true);
    return result;
  }, (error) => {
    settle(false);
    throw error;
  });
}

/** Feeds one outcome into the generator; returns its next request. */
function resume(
  steps: Steps<unknown>,
  outcome: Outcome,
): IteratorResult<Op, unknown> {
  return "error" in outcome
    ? steps.throw(outcome.error)
    : steps.next(outcome.value);
}

/** Runs steps with the synchronous primitives. */
export function runSync<T>(
  steps: Steps<T>,
  primitives: Primitives,
  context: RunContext,
): T {
  let outcome: Outcome = { value: undefined };
  while (true) {
    const request = resume(steps as Steps<unknown>, outcome);
    if (request.done) return request.value as T;
    const op = request.value;
    try {
      outcome = { value: performSync(op, primitives, context) };
    } catch (error) {
      outcome = { error: wrap(context, op, error) };
    }
  }
}

function performSync(
  op: Op,
  primitives: Primitives,
  context: RunContext,
): unknown {
  switch (op.kind) {
    case "call":
      return callTracked(primitives, op, primitives);
    case "next": {
      const result = (op.iterator as Iterator<unknown>).next();
      if (result instanceof Promise) {
        throw new TypeError(
          "Expected a synchronous iterable: the synchronous variants accept no streams",
        );
      }
      return result;
    }
    case "commit-point":
      if (context.shouldCommit && !context.shouldCommit()) {
        throw new Superseded();
      }
      return undefined;
    case "sleep":
      sleepSync(op.milliseconds);
      return undefined;
    case "blob":
      throw new TypeError(
        "Expected byte-like data: the synchronous variants cannot read a Blob",
      );
  }
}

let sleeper: Int32Array | undefined;

function sleepSync(milliseconds: number): void {
  sleeper ??= new Int32Array(new SharedArrayBuffer(4));
  Atomics.wait(sleeper, 0, 0, milliseconds);
}

/** Runs steps with the asynchronous primitives. */
export function runAsync<T>(
  steps: Steps<T>,
  backend: Backend,
  context: RunContext,
): Promise<T> {
  return context.waitForSlot
    ? driveInSlot(steps, backend, context)
    : drive(steps, backend, context);
}

async function driveInSlot<T>(
  steps: Steps<T>,
  backend: Backend,
  context: RunContext,
): Promise<T> {
  // An abort while waiting rejects here, before the protocol did anything.
  const waiting = writeSlots.acquire(context.signal);
  if (waiting) await waiting;
  let held = true;
  // The temp file is closed at the commit point: from there on the run
  // holds no descriptor of its own (a directory fsync is shared), and
  // keeping the slot through the rename and the directory fsync would make
  // the writes queued behind it wait for fsyncs they could share.
  const releaseSlot = () => {
    if (!held) return;
    held = false;
    writeSlots.release();
  };
  try {
    return await drive(steps, backend, { ...context, releaseSlot });
  } finally {
    releaseSlot();
  }
}

/**
 * Asynchronous writes called and not yet settled in this process, by the
 * directory they write in. While they write in more than one directory, the
 * slow quick calls go to the thread pool (see `performAsync`). Counted from
 * the call, not from the run's start: a run made only of quick calls makes
 * no pause, so runs that start one after another would never overlap.
 */
const writesInProgress = new Map<string, number>();

/**
 * Counts a write into `directory` as in progress until `settled` settles.
 * Returns `settled` itself, so that callers still settle in call order.
 */
export function countInProgress<T>(
  directory: string,
  settled: Promise<T>,
): Promise<T> {
  writesInProgress.set(directory, (writesInProgress.get(directory) ?? 0) + 1);
  const done = () => {
    const left = writesInProgress.get(directory)! - 1;
    if (left === 0) writesInProgress.delete(directory);
    else writesInProgress.set(directory, left);
  };
  settled.then(done, done);
  return settled;
}

/**
 * The create and the rename take their directory's lock and may start
 * journal work. Where that is cheap (~20 us on xfs) they cost less on the
 * main thread than a trip to the thread pool (~45 us in Deno). Where it is
 * not (~200-300 us each on this machine's ext4 under load, where a rename
 * over a file starts its writeback), calls made on the main thread queue
 * behind each other while the pool would make them side by side, provided
 * they are in different directories: one directory's lock serializes them
 * anyway. So these two calls go to the pool while writes are in progress in
 * more than one directory AND their recent duration on the main thread
 * exceeds a pool trip. Measured in one process (`bench/pool_policy.ts`,
 * 1,000 writes over 10 directories at "full", 2026-12-01): on ext4 1.42x the
 * inline protocol on the main thread, 0.77x as here (Deno; Node 1.39x and
 * 0.90x; Bun 1.11x either way); on xfs the pool gained nothing; 100 writes
 * into one directory were 5-30% slower in the pool.
 */
const POOLED_WHEN_SLOW = new Set<keyof Primitives>(["createTemp", "rename"]);

/** A thread-pool round trip, in milliseconds: slower calls are pooled. */
const POOL_TRIP_MS = 0.05;

/**
 * For each call in `POOLED_WHEN_SLOW`, by name: its recent duration on the
 * main thread in milliseconds (an exponential average), and when it last
 * ran there.
 */
const mainThreadCost = new Map<
  keyof Primitives,
  { average: number; measuredAt: number }
>();

/** How often a pooled call runs on the main thread again, to re-measure. */
const REMEASURE_MS = 1_000;

/**
 * How `belongsInPool` decides: `"measured"` as described above; `"never"`,
 * `"spread"` (whenever writes span directories) and `"all"` (every call,
 * as the inline protocol makes them) only for `bench/pool_policy.ts`, which
 * compares them in one process, and the power-cut test, which must cut
 * pooled writes. `pooled` counts the calls sent to the pool, for that test
 * to see it did. Not exported by any entry point.
 */
export const poolPolicy: {
  mode: "measured" | "never" | "spread" | "all";
  pooled: number;
} = { mode: "measured", pooled: 0 };

function belongsInPool(name: keyof Primitives): boolean {
  const pooled = wouldPool(name);
  if (pooled) poolPolicy.pooled++;
  return pooled;
}

function wouldPool(name: keyof Primitives): boolean {
  if (poolPolicy.mode === "all") return true;
  if (writesInProgress.size <= 1 || !POOLED_WHEN_SLOW.has(name)) return false;
  if (poolPolicy.mode !== "measured") return poolPolicy.mode === "spread";
  // Now and then one runs on the main thread again, so that the average
  // follows the disk when it gets fast again.
  const cost = mainThreadCost.get(name);
  if (!cost || performance.now() - cost.measuredAt > REMEASURE_MS) {
    return false;
  }
  return cost.average > POOL_TRIP_MS;
}

/** Makes a quick call on the main thread, timing the ones worth timing. */
function callOnMainThread(primitives: Primitives, op: Call): unknown {
  if (!POOLED_WHEN_SLOW.has(op.name)) {
    return callTracked(primitives, op, primitives);
  }
  const start = performance.now();
  try {
    return callTracked(primitives, op, primitives);
  } finally {
    const end = performance.now();
    const took = end - start;
    const previous = mainThreadCost.get(op.name)?.average;
    mainThreadCost.set(op.name, {
      average: previous === undefined ? took : previous * 0.75 + took * 0.25,
      measuredAt: end,
    });
  }
}

async function drive<T>(
  steps: Steps<T>,
  backend: Backend,
  context: RunState,
): Promise<T> {
  const announced = context.directorySync;
  if (announced === undefined) return await driveSteps(steps, backend, context);
  const run = { ...context, ticket: directorySyncs.expect(announced) };
  try {
    return await driveSteps(steps, backend, run);
  } finally {
    if (run.ticket !== undefined) directorySyncs.forget(announced, run.ticket);
  }
}

/**
 * A run's context while it runs: the ticket of its announced fsync until it
 * asks for it, and how it gives back its write slot early.
 */
type RunState = RunContext & { ticket?: number; releaseSlot?: () => void };

async function driveSteps<T>(
  steps: Steps<T>,
  backend: Backend,
  context: RunState,
): Promise<T> {
  let outcome: Outcome = { value: undefined };
  // Before the rename an abort wins; after the commit point it cannot. It is
  // delivered once, so that the protocol's cleanup operations still run.
  let abortable = true;
  while (true) {
    const request = resume(steps as Steps<unknown>, outcome);
    if (request.done) return request.value as T;
    const op = request.value;
    try {
      if (abortable && context.signal?.aborted) {
        abortable = false;
        throw context.signal.reason;
      }
      if (op.kind === "commit-point") {
        abortable = false;
        context.releaseSlot?.();
      }
      // Only real promises are awaited: the commit point and a synchronous
      // rename run with no other code between them (a synchronous write that
      // comes while a rename sits in the thread pool makes it first:
      // finishRenameInFlight).
      // Calls short of descriptors are retried; an abort ends the backoff.
      const value = op.kind === "call"
        ? retryOnDescriptorShortage(
          () => performAsync(op, backend, context),
          abortable ? context.signal : undefined,
        )
        : performAsync(op, backend, context);
      outcome = { value: value instanceof Promise ? await value : value };
    } catch (error) {
      const isAbort = context.signal?.aborted &&
        error === context.signal.reason;
      if (isAbort) abortable = false;
      outcome = { error: isAbort ? error : wrap(context, op, error) };
    }
  }
}

function performAsync(
  op: Op,
  backend: Backend,
  context: RunState,
): unknown {
  switch (op.kind) {
    case "call":
      if (op.name === "syncDirectory") {
        // Concurrent writes into one directory share its fsyncs.
        const directory = op.args[0] as string;
        let ticket: number | undefined;
        if (directory === context.directorySync) {
          [ticket, context.ticket] = [context.ticket, undefined];
        }
        return directorySyncs.sync(
          directory,
          () => backend.async.syncDirectory(directory),
          ticket,
        );
      }
      if (!op.quick || !backend.sync || belongsInPool(op.name)) {
        return op.name === "rename" && backend.sync
          ? renameInPool(op, backend)
          : callTracked(backend.async, op, backend.sync);
      }
      return callOnMainThread(backend.sync, op);
    case "next":
      return raceAbort(op.iterator.next(), context.signal);
    case "blob":
      // No fast path: undefined has the protocol stream the Blob.
      return backend.writeBlob?.(op.handle, op.blob);
    case "commit-point":
      if (context.shouldCommit && !context.shouldCommit()) {
        throw new Superseded();
      }
      return undefined;
    case "sleep":
      return new Promise((resolve) => setTimeout(resolve, op.milliseconds));
  }
}

/** A rename sent to the thread pool that has not settled yet. */
interface RenameInFlight {
  from: string;
  /** A synchronous write made this rename itself (`finishRenameInFlight`). */
  finished: boolean;
}

/**
 * Renames in the thread pool, by target, oldest first (writes to one file
 * are queued one after another; two `openAtomic` handles need not be).
 */
const renamesInFlight = new Map<string, Set<RenameInFlight>>();

/**
 * Makes a rename in the thread pool. A synchronous write to the same target
 * that comes meanwhile makes the rename itself first
 * (`finishRenameInFlight`), so that this older content can never land over
 * the newer; this call then fails (its temp file is gone) and counts as done.
 */
async function renameInPool(op: Call, backend: Backend): Promise<unknown> {
  const [from, to] = op.args as [string, string];
  const rename: RenameInFlight = { from, finished: false };
  let renames = renamesInFlight.get(to);
  if (!renames) renamesInFlight.set(to, renames = new Set());
  renames.add(rename);
  try {
    return await callTracked(backend.async, op, backend.sync);
  } catch (error) {
    if (rename.finished) return undefined;
    throw error;
  } finally {
    renames.delete(rename);
    if (renames.size === 0 && renamesInFlight.get(to) === renames) {
      renamesInFlight.delete(to);
    }
  }
}

/**
 * Before a synchronous write to `target`: makes the renames onto it that
 * older writes still have in the thread pool, oldest first, so that the
 * synchronous write lands after them, as it would have if they had been
 * synchronous. A rename's temp file is gone already if the pool made it
 * first; any other failure is left to that older write's own rename.
 */
export function finishRenameInFlight(
  target: string,
  primitives: Primitives,
): void {
  const renames = renamesInFlight.get(target);
  if (!renames) return;
  renamesInFlight.delete(target);
  for (const rename of renames) {
    try {
      primitives.rename(rename.from, target);
    } catch {
      continue;
    }
    rename.finished = true;
    untrackTemp(rename.from);
  }
}

/** Waits for `value`, but rejects with the abort reason as soon as aborted. */
function raceAbort<T>(value: T | Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return Promise.resolve(value);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    Promise.resolve(value).then(resolve, reject).finally(() =>
      signal.removeEventListener("abort", onAbort)
    );
  });
}
