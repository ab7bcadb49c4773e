/**
 * The public functions, built once over any backend. The entry points
 * (`auto.ts`, `deno.ts`, `bun.ts`, `node.ts`, `opfs.ts`) bind them to a
 * backend. Option rules live in `_option_rules.ts`, the pending file of
 * `openAtomic` in `_pending_file.ts`.
 */

import type { Backend } from "./_backend.ts";
export type { AtomicWriteApi } from "./options.ts";
import { type DataSource, toDataSource } from "./_data.ts";
import {
  countInProgress,
  finishRenameInFlight,
  runAsync,
  runSync,
  Superseded,
} from "./_driver.ts";
import {
  type CallKind,
  type NormalizedOptions,
  normalizeOptions,
  sameCoalesceShape,
} from "./_option_rules.ts";
import { PendingFile } from "./_pending_file.ts";
import {
  createTemp,
  removeStaleTemps,
  type ResolvedTarget,
  resolveTarget,
  writeWhole,
} from "./_protocol.ts";
import { isDescriptorShortage } from "./_descriptor_limit.ts";
import { describe, isAbsolute, toPath } from "./_path.ts";
import { WriteScheduler } from "./_scheduler.ts";
import type { Locking, LockRequest } from "./_lock_wait.ts";
import type { AtomicWriteApi, FileLock } from "./options.ts";

/** One scheduler for the process: every entry point shares the ordering. */
const scheduler = new WriteScheduler(sameCoalesceShape);

function toTextSource(text: unknown): unknown {
  const ok = typeof text === "string" ||
    (typeof text === "object" && text !== null &&
      !ArrayBuffer.isView(text) && !(text instanceof ArrayBuffer) &&
      (text instanceof ReadableStream || Symbol.asyncIterator in text ||
        Symbol.iterator in text));
  if (!ok) {
    throw new TypeError(
      `Expected "text" to be a string, ReadableStream<string> or (async) iterable of strings, got ${
        describe(text)
      }`,
    );
  }
  return text;
}

function cancelSource(source: DataSource, reason: unknown): void {
  if (source.kind === "async-iterator") source.cancel(reason);
}

const SHORT_OF_DESCRIPTORS = Symbol("short of descriptors");

/**
 * Resolves the target synchronously, or says that descriptors ran out (a
 * realpath may open one): the caller then resolves asynchronously, where
 * EMFILE is retried with backoff.
 */
function resolveNow(
  path: string,
  options: NormalizedOptions,
  backend: Backend,
): ResolvedTarget | typeof SHORT_OF_DESCRIPTORS {
  try {
    return runSync(
      resolveTarget(path, options, backend.capabilities),
      backend.sync!,
      { path },
    );
  } catch (error) {
    if (isDescriptorShortage(error)) return SHORT_OF_DESCRIPTORS;
    throw error;
  }
}

/**
 * A key under which a coalescing call may join a waiting batch without a
 * full resolution: the absolute path and the identity (device and inode)
 * of the file it names now, from one stat, where a realpath costs one
 * call per path component. Equal keys mean the same path naming the same
 * file at both calls, so a chdir or a swapped link in between changes the
 * key. Undefined where that shortcut does not apply; the call then
 * resolves in full.
 */
function identityKey(
  path: string,
  options: NormalizedOptions,
  backend: Backend,
): string | undefined {
  const { capabilities } = backend;
  if (
    !backend.sync || options.createNew ||
    !isAbsolute(path, capabilities.backslashSeparator)
  ) {
    return undefined;
  }
  try {
    const info = options.symlinks === "replace" && capabilities.symlinks
      ? backend.sync.lstat(path)
      : backend.sync.stat(path);
    return info?.isFile && info.identity
      ? `${info.identity}\0${path}`
      : undefined;
  } catch {
    // A trailing slash, a missing directory, EMFILE...: the full resolution
    // reports or handles it.
    return undefined;
  }
}

/** Builds the API over the backend that `getBackend` returns (memoized). */
export function createAtomicWrite<H>(
  getBackend: () => Backend<H>,
): AtomicWriteApi {
  let cached: Backend | undefined;
  // The protocol treats handles as opaque: erase the handle type once here.
  const backend = () => cached ??= getBackend() as unknown as Backend;

  function syncPrimitives(name: string, current: Backend) {
    if (!current.sync) {
      throw new TypeError(
        `${name} is not available with the ${current.name} backend: use the asynchronous variant`,
      );
    }
    return current.sync;
  }

  /** Only streams hold anything to release; an Error costs a stack trace. */
  function drop(dropped: DataSource): void {
    if (dropped.kind === "async-iterator") dropped.cancel(new Superseded());
  }

  /**
   * Starts a write. Not async itself: a coalescing call that joins a waiting
   * batch costs one promise and one path resolution, so that a burst of
   * thousands of calls costs little more than the one write it becomes.
   */
  function writeData(
    path: string,
    source: DataSource,
    options: NormalizedOptions,
  ): Promise<void> {
    const current = options.backend;
    const { capabilities } = current;
    const context = { path, signal: options.signal };
    const sequence = scheduler.nextSequence();
    const identity = options.coalesce
      ? identityKey(path, options, current)
      : undefined;
    if (identity) {
      const joined = scheduler.joinCoalesced(
        identity,
        options,
        sequence,
        source,
        drop,
      );
      if (joined) return joined;
    }
    // The target is resolved now, at the call, where the backend can do it
    // synchronously: a later chdir or a swapped directory link must not move
    // this write, or the coalesced calls that join it, to another file.
    // (OPFS paths have neither, so there the path itself is the key.)
    const resolvedNow = current.sync
      ? resolveNow(path, options, current)
      : undefined;
    // Resolving later (descriptors ran out for a moment): join no batch by
    // name, whose meaning could change meanwhile; the scheduler still merges
    // batches for one file once it is resolved.
    const key = resolvedNow === SHORT_OF_DESCRIPTORS
      ? `\0unresolved:${sequence}`
      : resolvedNow?.target ?? path;
    const joined = options.coalesce
      ? scheduler.joinCoalesced(key, options, sequence, source, drop, identity)
      : undefined;
    if (joined) return joined;
    const resolving = resolvedNow && resolvedNow !== SHORT_OF_DESCRIPTORS
      ? Promise.resolve(resolvedNow)
      : runAsync(resolveTarget(path, options, capabilities), current, context);
    const target = resolving.then((resolved) => resolved.target);
    // Rejections are delivered through the queue; until it gets there this
    // promise must not count as unhandled.
    target.catch(() => {});
    const write = async (
      data: DataSource,
      isSuperseded: () => boolean,
    ): Promise<boolean> => {
      try {
        const resolved = await resolving;
        // A stream's pace is the caller's: it must not hold a slot, nor the
        // directory fsync that other writes share.
        const paced = data.kind !== "async-iterator";
        await runAsync(
          writeWhole(resolved, data, options, capabilities),
          current,
          {
            ...context,
            shouldCommit: () => !isSuperseded(),
            waitForSlot: paced,
            directorySync: paced && options.durability === "full" &&
                capabilities.syncDirectory
              ? resolved.directory
              : undefined,
          },
        );
        return true;
      } catch (error) {
        cancelSource(data, error);
        if (error instanceof Superseded) return false;
        throw error;
      }
    };
    const queued = options.coalesce
      // The batch's own promise, as for the callers who join it later: all
      // its callers settle in one pass, in call order.
      ? scheduler.submitCoalesced(
        sequence,
        options,
        identity ? [key, identity] : [key],
        target,
        source,
        drop,
        write,
      )
      : scheduler.submit(sequence, target, (isSuperseded) => {
        if (isSuperseded()) {
          drop(source);
          return Promise.resolve(false);
        }
        return write(source, isSuperseded);
      }).then(() => {});
    // Release a stream that was never (fully) read, without delaying the
    // caller's promise.
    queued.catch((error) => cancelSource(source, error));
    return countInProgress(
      typeof resolvedNow === "object" ? resolvedNow.directory : key,
      queued,
    );
  }

  /**
   * Checks the arguments (path, options, then data) and starts the write.
   * Argument errors reject, as from an async function.
   */
  function startWrite(
    fn: string,
    path: string | URL,
    options: unknown,
    toSource: () => DataSource,
  ): Promise<void> {
    try {
      const target = toPath(path);
      const normalized = checkedOptions(target, options, "write", fn);
      const source = toSource();
      normalized.signal?.throwIfAborted();
      return writeData(target, source, normalized);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  function writeDataSync(
    path: string,
    source: DataSource,
    options: NormalizedOptions,
    name: string,
  ): void {
    const primitives = syncPrimitives(name, options.backend);
    if (source.kind !== "bytes" && source.kind !== "iterator") {
      throw new TypeError(
        `Expected byte-like data for ${name} (string, ArrayBuffer, ArrayBufferView or iterable), got a ${source.kind}: use the asynchronous variant for streams and Blobs`,
      );
    }
    const { capabilities } = options.backend;
    const sequence = scheduler.nextSequence();
    const context = { path };
    const resolved = runSync(
      resolveTarget(path, options, capabilities),
      primitives,
      context,
    );
    finishRenameInFlight(resolved.target, primitives);
    scheduler.runSync(
      resolved.target,
      sequence,
      () =>
        runSync(
          writeWhole(resolved, source, options, capabilities),
          primitives,
          context,
        ),
      !options.append && !options.createNew,
    );
  }

  /** Options for a call on `path`, and the path checked by its backend. */
  function checkedOptions(
    path: string,
    input: unknown,
    call: CallKind,
    fn: string,
  ): NormalizedOptions {
    const options = normalizeOptions(input, backend(), call, fn);
    options.backend.validatePath?.(path);
    return options;
  }

  function syncOptions(
    path: string,
    input: unknown,
    name: string,
  ): NormalizedOptions {
    const options = checkedOptions(path, input, "writeSync", name);
    syncPrimitives(name, options.backend);
    return options;
  }

  /** The lock of a call whose options were checked, and its locking. */
  function lockRequest(
    path: string,
    options: NormalizedOptions,
    timeout: number,
  ): { locking: Locking; request: LockRequest } {
    const current = options.backend;
    const locking = current.locking;
    if (!locking) {
      throw new TypeError(
        `Locked updates are not available with the ${current.name} backend`,
      );
    }
    const request = {
      path,
      backend: current,
      signal: options.signal,
      timeout,
      root: (options as { root?: unknown }).root,
      linkItself: options.symlinks === "replace",
    };
    return { locking, request };
  }

  /**
   * Under the lock: reads the content, asks `transform` for the new one and
   * writes it with the normal protocol. An error anywhere leaves the file
   * as it was; the lock is released in any case.
   */
  async function update(
    fn: string,
    path: string | URL,
    transform: unknown,
    options: unknown,
    text: boolean,
  ): Promise<void> {
    const target = toPath(path);
    const normalized = checkedOptions(target, options, "update", fn);
    if (typeof transform !== "function") {
      throw new TypeError(
        `Expected "fn" to be a function, got ${describe(transform)}`,
      );
    }
    const { locking, request } = lockRequest(
      target,
      normalized,
      normalized.lockTimeout,
    );
    const held = await locking.acquire(target, request);
    let failed = true;
    try {
      const bytes = await locking.read(target, request);
      const current = text && bytes ? new TextDecoder().decode(bytes) : bytes;
      const next = await transform(current);
      const source = text
        ? toDataSource(toTextSource(next), "text")
        : toDataSource(next);
      await writeData(target, source, normalized);
      failed = false;
    } finally {
      // A release failure must not hide the error that ended the update.
      if (failed) await held.release().catch(() => {});
      else await held.release();
    }
  }

  return {
    writeFile(path, data, options) {
      return startWrite("writeFile", path, options, () => toDataSource(data));
    },

    writeTextFile(path, text, options) {
      return startWrite(
        "writeTextFile",
        path,
        options,
        () => toDataSource(toTextSource(text), "text"),
      );
    },

    writeFileSync(path, data, options) {
      const target = toPath(path);
      const normalized = syncOptions(target, options, "writeFileSync");
      const source = toDataSource(data);
      writeDataSync(target, source, normalized, "writeFileSync");
    },

    writeTextFileSync(path, text, options) {
      const target = toPath(path);
      const normalized = syncOptions(target, options, "writeTextFileSync");
      const source = toDataSource(toTextSource(text), "text");
      writeDataSync(target, source, normalized, "writeTextFileSync");
    },

    async openAtomic(path, options) {
      const target = toPath(path);
      const normalized = checkedOptions(target, options, "open", "openAtomic");
      normalized.signal?.throwIfAborted();
      const current = normalized.backend;
      const context = { path: target, signal: normalized.signal };
      const resolved = await runAsync(
        resolveTarget(target, normalized, current.capabilities),
        current,
        context,
      );
      const pending = await runAsync(
        createTemp(resolved, normalized, current.capabilities),
        current,
        context,
      );
      return new PendingFile(target, resolved, pending, normalized, scheduler);
    },

    updateFile(path, fn, options) {
      return update("updateFile", path, fn, options, false);
    },

    updateTextFile(path, fn, options) {
      return update("updateTextFile", path, fn, options, true);
    },

    async lockFile(path, options): Promise<FileLock> {
      const target = toPath(path);
      const normalized = checkedOptions(target, options, "lock", "lockFile");
      const { locking, request } = lockRequest(
        target,
        normalized,
        normalized.timeout,
      );
      const held = await locking.acquire(target, request);
      return {
        path: target,
        release: held.release,
        [Symbol.asyncDispose]: held.release,
      };
    },

    async cleanupTemps(directory, options) {
      const path = toPath(directory);
      const normalized = normalizeOptions(
        options,
        backend(),
        "cleanup",
        "cleanupTemps",
      );
      normalized.signal?.throwIfAborted();
      return await runAsync(
        removeStaleTemps(
          path,
          normalized.olderThan,
          Date.now(),
          normalized.busyRetry,
        ),
        normalized.backend,
        { path, signal: normalized.signal },
      );
    },
  };
}
