/**
 * The one error type of failed writes.
 *
 * @module
 */

import { errorCode } from "./_errno.ts";

/**
 * The step of the atomic-write protocol that failed.
 *
 * - `"resolve"`: following links and checking the target and its directory
 *   (missing parent, parent is a file, target is a directory, symlink loop,
 *   name too long).
 * - `"mkdir"`: creating missing parent directories (`createParents`).
 * - `"open"`: creating the temp file beside the target.
 * - `"copy"`: copying the old content into the temp file (`append`).
 * - `"data"`: reading the input (a stream or iterable that threw).
 * - `"write"`: writing into the temp file (e.g. `ENOSPC`).
 * - `"chmod"` / `"chown"`: giving the temp file its permissions or owner.
 * - `"sync"`: fsyncing the temp file.
 * - `"close"`: closing the temp file.
 * - `"rename"`: renaming the temp file over the target.
 * - `"sync-directory"`: fsyncing the directory after the rename. When this
 *   step fails the target already holds the NEW content, but its durability is
 *   not guaranteed.
 * - `"cleanup"`: removing a stale temp file in `cleanupTemps`.
 * - `"lock"`: taking the lock of `updateFile`, `updateTextFile` or
 *   `lockFile` (code `"ETIMEDOUT"` when `lockTimeout`/`timeout` expired).
 *
 * @example
 * ```ts
 * import { type AtomicWriteStep, AtomicWriteError } from "@atomic-write/atomic-write";
 * const step: AtomicWriteStep = new AtomicWriteError("/x", "rename", new Error("busy")).step;
 * console.assert(step === "rename");
 * ```
 */
export type AtomicWriteStep =
  | "resolve"
  | "mkdir"
  | "open"
  | "copy"
  | "data"
  | "write"
  | "chmod"
  | "chown"
  | "sync"
  | "close"
  | "rename"
  | "sync-directory"
  | "cleanup"
  | "lock";

/**
 * A write that failed. Unless `step` is `"sync-directory"`, the target still
 * holds its old content and no temp file is left behind.
 *
 * @example Report which step failed
 * ```ts
 * import { AtomicWriteError, writeFile } from "@atomic-write/atomic-write";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await writeFile(`${dir}/missing/file.txt`, "x");
 * } catch (error) {
 *   if (!(error instanceof AtomicWriteError)) throw error;
 *   console.assert(error.step === "resolve" && error.code === "ENOENT");
 * }
 * ```
 */
export class AtomicWriteError extends Error {
  /** The target path of the failed write. */
  readonly path: string;
  /** The protocol step that failed. */
  readonly step: AtomicWriteStep;
  /**
   * The errno-style code of the underlying failure (`"ENOENT"`, `"EACCES"`,
   * `"ENOSPC"`, ...), or the runtime's error name where it has no code
   * (Deno's `"NotCapable"` for a missing permission flag).
   */
  readonly code: string | undefined;

  /**
   * Creates the error; the message names the path, the step and the cause.
   *
   * @param path The target path.
   * @param step The step that failed.
   * @param cause The runtime's original error.
   * @param detail A sentence explaining the failure, used instead of the
   * cause's message.
   */
  constructor(
    path: string,
    step: AtomicWriteStep,
    cause: unknown,
    detail?: string,
  ) {
    const code = errorCode(cause);
    const reason = detail ??
      (cause instanceof Error ? cause.message : String(cause));
    super(
      `Cannot write "${path}": ${step} failed${
        code ? ` (${code})` : ""
      }: ${reason}`,
      { cause },
    );
    this.name = "AtomicWriteError";
    this.path = path;
    this.step = step;
    this.code = code;
  }
}
