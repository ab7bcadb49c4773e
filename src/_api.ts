/**
 * The public functions, built once over any backend. The entry points
 * (`auto.ts`, `deno.ts`, `bun.ts`, `node.ts`) bind them to a backend.
 */

import type { Backend } from "./_backend.ts";
export type { AtomicWriteApi } from "./options.ts";
import { ChunkEncoder, type DataSource, toDataSource } from "./_data.ts";
import { runAsync, runSync, Superseded } from "./_driver.ts";
import {
  commitTemp,
  createTemp,
  discardTemp,
  type PendingTemp,
  type ProtocolOptions,
  removeStaleTemps,
  type ResolvedTarget,
  resolveTarget,
  writeBytes,
  writeWhole,
} from "./_protocol.ts";
import { describe, toPath } from "./_path.ts";
import { WriteScheduler } from "./_scheduler.ts";
import type { AtomicFile, AtomicWriteApi, WriteChunk } from "./options.ts";

/** One scheduler for the process: every entry point shares the ordering. */
const scheduler = new WriteScheduler(sameCoalesceShape);

interface NormalizedOptions extends ProtocolOptions {
  signal: AbortSignal | undefined;
  coalesce: boolean;
  /** The backend for this call (OPFS: bound to its `root` and `locks`). */
  backend: Backend;
}

const DURABILITIES = ["full", "file", "none"];
const SYMLINK_POLICIES = ["follow", "replace"];

function optionalBoolean(options: Record<string, unknown>, name: string) {
  const value = options[name];
  if (value !== undefined && typeof value !== "boolean") {
    throw new TypeError(
      `Expected option "${name}" to be a boolean, got ${describe(value)}`,
    );
  }
  return value === true;
}

function oneOf(
  options: Record<string, unknown>,
  name: string,
  allowed: string[],
): string {
  const value = options[name] ?? allowed[0];
  if (typeof value !== "string" || !allowed.includes(value)) {
    throw new TypeError(
      `Expected option "${name}" to be ${
        allowed.map((v) => `"${v}"`).join(" or ")
      }, got ${describe(value)}`,
    );
  }
  return value;
}

function isId(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 &&
    (value as number) < 2 ** 32 - 1;
}

/** Picks the backend for a call's `root` and `locks` settings. */
function backendWithSettings(
  options: Record<string, unknown>,
  base: Backend,
): Backend {
  const { root, locks } = options;
  if (root === undefined && locks === undefined) return base;
  if (locks !== undefined && typeof locks !== "boolean") {
    throw new TypeError(
      `Expected option "locks" to be a boolean, got ${describe(locks)}`,
    );
  }
  if (!base.withSettings) {
    throw new TypeError(
      `Options "root" and "locks" are only for OPFS, not the ${base.name} backend`,
    );
  }
  if (
    root !== undefined && (root as { kind?: unknown })?.kind !== "directory"
  ) {
    throw new TypeError(
      `Expected option "root" to be a FileSystemDirectoryHandle, got ${
        describe(root)
      }`,
    );
  }
  return base.withSettings({ root, locks: locks as boolean | undefined });
}

/** Validates options before anything is touched. */
function normalizeOptions(
  input: unknown,
  base: Backend,
): NormalizedOptions {
  if (input !== undefined && (typeof input !== "object" || input === null)) {
    throw new TypeError(
      `Expected "options" to be an object, got ${describe(input)}`,
    );
  }
  const options = (input ?? {}) as Record<string, unknown>;
  const backend = backendWithSettings(options, base);
  const context = { backend };
  if (
    options.durability !== undefined && options.durability !== "none" &&
    !backend.capabilities.fsync
  ) {
    throw new TypeError(
      `Option "durability" ${
        describe(options.durability)
      } is impossible with the ${backend.name} backend, which has no fsync: use "none" or leave it out`,
    );
  }
  const { mode, chown, signal } = options;
  if (mode !== undefined) {
    if (typeof mode !== "number") {
      throw new TypeError(
        `Expected option "mode" to be a number, got ${describe(mode)}`,
      );
    }
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
      throw new RangeError(
        `Expected option "mode" to be an integer from 0 to 0o7777, got ${mode}`,
      );
    }
    if (!context.backend.capabilities.mode) {
      throw new TypeError(
        `Option "mode" is not supported by the ${context.backend.name} backend`,
      );
    }
  }
  if (chown !== undefined && chown !== false) {
    const ids = chown as { uid?: unknown; gid?: unknown };
    if (typeof chown !== "object" || chown === null) {
      throw new TypeError(
        `Expected option "chown" to be { uid, gid } or false, got ${
          describe(chown)
        }`,
      );
    }
    if (!isId(ids.uid) || !isId(ids.gid)) {
      throw new RangeError(
        `Expected option "chown" to hold non-negative integer uid and gid, got uid ${
          describe(ids.uid)
        } and gid ${describe(ids.gid)}`,
      );
    }
    if (!context.backend.capabilities.chown) {
      throw new TypeError(
        `Option "chown" is not supported by the ${context.backend.name} backend`,
      );
    }
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(
      `Expected option "signal" to be an AbortSignal, got ${describe(signal)}`,
    );
  }
  const normalized: NormalizedOptions = {
    durability: oneOf(
      options,
      "durability",
      DURABILITIES,
    ) as NormalizedOptions["durability"],
    symlinks: oneOf(
      options,
      "symlinks",
      SYMLINK_POLICIES,
    ) as NormalizedOptions["symlinks"],
    mode: mode as number | undefined,
    chown: chown as NormalizedOptions["chown"],
    append: optionalBoolean(options, "append"),
    createParents: optionalBoolean(options, "createParents"),
    coalesce: optionalBoolean(options, "coalesce"),
    signal: signal as AbortSignal | undefined,
    backend,
  };
  if (normalized.append && normalized.coalesce) {
    throw new TypeError(
      `Options "append" and "coalesce" cannot be combined: coalescing would drop appended data`,
    );
  }
  return normalized;
}

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

/**
 * Whether two coalescing calls may be merged into one write: same backend,
 * same signal (each caller's abort must stay its own) and the same value for
 * every option the protocol reads. Merged calls write the newest data with
 * these options.
 */
function sameCoalesceShape(a: unknown, b: unknown): boolean {
  const x = a as NormalizedOptions;
  const y = b as NormalizedOptions;
  return x.backend === y.backend && x.signal === y.signal &&
    x.durability === y.durability && x.mode === y.mode &&
    (x.chown === y.chown ||
      (!!x.chown && !!y.chown && x.chown.uid === y.chown.uid &&
        x.chown.gid === y.chown.gid)) &&
    x.symlinks === y.symlinks && x.createParents === y.createParents;
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
   * batch costs one promise and no path resolution, so that a burst of
   * thousands of calls costs little more than the one write it becomes.
   */
  function writeData(
    path: string,
    source: DataSource,
    options: NormalizedOptions,
  ): Promise<void> {
    const current = options.backend;
    if (source.kind === "blob" && !current.writeBlob) {
      source = toDataSource(source.blob.stream());
    }
    const sequence = scheduler.nextSequence();
    const joined = options.coalesce
      ? scheduler.joinCoalesced(path, options, sequence, source, drop)
      : undefined;
    if (joined) return joined;
    const { capabilities } = current;
    const context = { path, signal: options.signal };
    const resolving = runAsync(
      resolveTarget(path, options, capabilities),
      current,
      context,
    );
    const target = resolving.then((resolved) => resolved.target);
    const write = async (
      data: DataSource,
      isSuperseded: () => boolean,
    ): Promise<boolean> => {
      try {
        await runAsync(
          writeWhole(await resolving, data, options, capabilities),
          current,
          { ...context, shouldCommit: () => !isSuperseded() },
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
        path,
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
    return queued;
  }

  /**
   * Checks the arguments (path, options, then data) and starts the write.
   * Argument errors reject, as from an async function.
   */
  function startWrite(
    path: string | URL,
    options: unknown,
    toSource: () => DataSource,
  ): Promise<void> {
    try {
      const target = toPath(path);
      const normalized = checkedOptions(target, options);
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
    scheduler.runSync(resolved.target, sequence, () =>
      runSync(
        writeWhole(resolved, source, options, capabilities),
        primitives,
        context,
      ));
  }

  /** Options for a call on `path`, and the path checked by its backend. */
  function checkedOptions(path: string, input: unknown): NormalizedOptions {
    const options = normalizeOptions(input, backend());
    options.backend.validatePath?.(path);
    return options;
  }

  function syncOptions(
    path: string,
    input: unknown,
    name: string,
  ): NormalizedOptions {
    const options = checkedOptions(path, input);
    if (options.signal || options.coalesce) {
      throw new TypeError(
        `Options "signal" and "coalesce" are not supported by ${name}`,
      );
    }
    return options;
  }

  return {
    writeFile(path, data, options) {
      return startWrite(path, options, () => toDataSource(data));
    },

    writeTextFile(path, text, options) {
      return startWrite(
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
      const normalized = checkedOptions(target, options);
      if (normalized.coalesce) {
        throw new TypeError(`Option "coalesce" is not supported by openAtomic`);
      }
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
      return new PendingFile(target, resolved, pending, normalized, current);
    },

    async cleanupTemps(directory, options) {
      const path = toPath(directory);
      if (
        options !== undefined &&
        (typeof options !== "object" || options === null)
      ) {
        throw new TypeError(
          `Expected "options" to be an object, got ${describe(options)}`,
        );
      }
      const olderThan = options?.olderThan ?? 600_000;
      if (typeof olderThan !== "number" || !(olderThan >= 0)) {
        throw new RangeError(
          `Expected option "olderThan" to be a non-negative number of milliseconds, got ${
            describe(olderThan)
          }`,
        );
      }
      const current = backendWithSettings(
        { root: options?.root },
        backend(),
      );
      return await runAsync(
        removeStaleTemps(path, olderThan, Date.now()),
        current,
        { path },
      );
    },
  };
}

/** `AtomicFile`: a temp file that becomes the target on `commit()`. */
class PendingFile implements AtomicFile {
  readonly path: string;
  #resolved: ResolvedTarget;
  #pending: PendingTemp;
  #options: NormalizedOptions;
  #backend: Backend;
  #encoder = new ChunkEncoder();
  /** Writes are applied in call order. */
  #writes: Promise<void> = Promise.resolve();
  #state: "open" | "committing" | "committed" | "discarded" | "failed" = "open";
  #failure: unknown;
  #discarding: Promise<void> = Promise.resolve();
  #writable?: WritableStream<WriteChunk>;

  constructor(
    path: string,
    resolved: ResolvedTarget,
    pending: PendingTemp,
    options: NormalizedOptions,
    backend: Backend,
  ) {
    this.path = path;
    this.#resolved = resolved;
    this.#pending = pending;
    this.#options = options;
    this.#backend = backend;
    options.signal?.addEventListener("abort", () => {
      if (this.#state === "open") this.discard().catch(() => {});
    }, { once: true });
  }

  /** Rejects once earlier work (a discard in progress) has settled. */
  async #rejectUnlessOpen(action: string): Promise<void> {
    if (this.#state === "open") return;
    await this.#writes;
    await this.#discarding;
    this.#assertOpen(action);
  }

  get writable(): WritableStream<WriteChunk> {
    return this.#writable ??= new WritableStream<WriteChunk>({
      write: (chunk) => this.write(chunk),
      close: () => this.commit(),
      abort: () => this.discard(),
    });
  }

  #context() {
    return { path: this.path, signal: this.#options.signal };
  }

  #assertOpen(action: string): void {
    if (this.#state === "failed") throw this.#failure;
    if (this.#state !== "open") {
      throw new DOMException(
        `Cannot ${action} "${this.path}": the pending file is already ${this.#state}`,
        "InvalidStateError",
      );
    }
  }

  /** Runs protocol steps after earlier writes; a failure discards the file. */
  #run(work: () => Promise<void>): Promise<void> {
    const result = this.#writes.then(async () => {
      if (this.#state === "failed") throw this.#failure;
      try {
        await work();
      } catch (error) {
        if (this.#state === "open" || this.#state === "committing") {
          this.#state = "failed";
          this.#failure = error;
          await runAsync(discardTemp(this.#pending), this.#backend, {
            path: this.path,
          });
        }
        throw error;
      }
    });
    this.#writes = result.catch(() => {});
    return result;
  }

  async write(
    chunk: WriteChunk | ArrayBufferView | ArrayBuffer,
  ): Promise<void> {
    await this.#rejectUnlessOpen("write to");
    const bytes = this.#encoder.encode(chunk);
    await this.#run(() =>
      runAsync(writeBytes(this.#pending, bytes), this.#backend, this.#context())
    );
  }

  async commit(): Promise<void> {
    await this.#rejectUnlessOpen("commit");
    this.#state = "committing";
    const rest = this.#encoder.flush();
    const sequence = scheduler.nextSequence();
    const backend = this.#backend;
    await this.#run(async () => {
      await runAsync(writeBytes(this.#pending, rest), backend, this.#context());
      const renamed = await scheduler.submit(
        sequence,
        Promise.resolve(this.#resolved.target),
        async (isSuperseded) => {
          try {
            await runAsync(
              commitTemp(
                this.#pending,
                this.#options.durability,
                backend.capabilities,
              ),
              backend,
              { ...this.#context(), shouldCommit: () => !isSuperseded() },
            );
            return true;
          } catch (error) {
            if (error instanceof Superseded) return false;
            throw error;
          }
        },
      );
      // A newer write won before this one started: drop the temp file.
      if (!renamed) {
        await runAsync(discardTemp(this.#pending), backend, {
          path: this.path,
        });
      }
      this.#state = "committed";
    });
  }

  async discard(): Promise<void> {
    if (this.#state !== "open") {
      await this.#writes;
      await this.#discarding;
      return;
    }
    this.#state = "discarded";
    this.#discarding = this.#writes.then(() =>
      runAsync(discardTemp(this.#pending), this.#backend, { path: this.path })
    );
    await this.#discarding;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.discard();
  }
}

// Engines without Symbol.asyncDispose (WebKit 2.50) run `await using` through
// transpilers, which look the method up under this registered symbol.
if (typeof Symbol.asyncDispose !== "symbol") {
  Object.defineProperty(
    PendingFile.prototype,
    Symbol.for("Symbol.asyncDispose"),
    {
      value(this: PendingFile) {
        return this.discard();
      },
    },
  );
}
