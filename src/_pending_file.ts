/**
 * `AtomicFile`, the pending file of `openAtomic`: a temp file that becomes
 * the target on `commit()`.
 */

import type { Backend } from "./_backend.ts";
import { ChunkEncoder } from "./_data.ts";
import { runAsync, Superseded } from "./_driver.ts";
import type { NormalizedOptions } from "./_option_rules.ts";
import {
  commitTemp,
  discardTemp,
  type PendingTemp,
  type ResolvedTarget,
  writeBytes,
} from "./_protocol.ts";
import type { WriteScheduler } from "./_scheduler.ts";
import type { AtomicFile, WriteChunk } from "./options.ts";

/** `AtomicFile`: a temp file that becomes the target on `commit()`. */
export class PendingFile implements AtomicFile {
  readonly path: string;
  #resolved: ResolvedTarget;
  #pending: PendingTemp;
  #options: NormalizedOptions;
  #backend: Backend;
  #scheduler: WriteScheduler;
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
    scheduler: WriteScheduler,
  ) {
    this.path = path;
    this.#resolved = resolved;
    this.#pending = pending;
    this.#options = options;
    this.#backend = options.backend;
    this.#scheduler = scheduler;
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
    // Checked at the call (a detached buffer is a TypeError then); the bytes
    // are read when the write runs, after earlier writes.
    this.#encoder.check(chunk);
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
    const scheduler = this.#scheduler;
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
