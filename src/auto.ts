/**
 * The API bound to the backend of the runtime it runs in.
 *
 * @module
 */

import { type AtomicWriteApi, createAtomicWrite } from "./_api.ts";
import { createBackendFor } from "./_select.ts";
import { detectRuntime } from "./runtime.ts";

// Picked on first use: Deno before Bun before Node.
const api = createAtomicWrite(() => createBackendFor(detectRuntime()));

/**
 * Atomically replaces the file at `path` with `data`: the data goes to a
 * temp file beside the target, which is fsynced and renamed over the target,
 * and then the directory is fsynced. A crash at any moment leaves the old or
 * the new content, never a torn or empty file.
 *
 * Writes to one file from this process are applied in call order.
 *
 * @param path The file to replace (a string or `file:` URL).
 * @param data The new content: text, bytes, a Blob, a stream or an
 * (async) iterable of chunks.
 * @param options See {@linkcode WriteOptions}.
 * @returns A promise that resolves once the write is as durable as
 * `options.durability` asks.
 * @throws {AtomicWriteError} When a step fails; the target keeps its old
 * content and no temp file is left.
 * @throws {TypeError} For invalid arguments, before anything is touched.
 *
 * @example Replace a JSON file
 * ```ts
 * import { writeFile } from "@atomic-write/atomic-write";
 * const path = await Deno.makeTempFile();
 * await writeFile(path, JSON.stringify({ saved: true }));
 * console.assert((await Deno.readTextFile(path)).includes("saved"));
 * ```
 */
export const writeFile: AtomicWriteApi["writeFile"] = api.writeFile;

/**
 * Like {@linkcode writeFile}, for text: a string, a `ReadableStream<string>`
 * or an (async) iterable of strings, written as UTF-8.
 *
 * @param path The file to replace.
 * @param text The new content.
 * @param options See {@linkcode WriteOptions}.
 * @returns A promise that resolves once the write is done.
 * @throws {AtomicWriteError} When a step fails; the old content stays.
 *
 * @example
 * ```ts
 * import { writeTextFile } from "@atomic-write/atomic-write";
 * const path = await Deno.makeTempFile();
 * await writeTextFile(path, "héllo");
 * console.assert((await Deno.readTextFile(path)) === "héllo");
 * ```
 */
export const writeTextFile: AtomicWriteApi["writeTextFile"] = api.writeTextFile;

/**
 * The synchronous {@linkcode writeFile}, for byte-like data (no streams or
 * Blobs). Shares the per-file call order with the asynchronous writes: an
 * older asynchronous write still pending when this returns will not
 * overwrite it.
 *
 * @param path The file to replace.
 * @param data The new content.
 * @param options As for `writeFile`, without `signal` and `coalesce`.
 * @throws {AtomicWriteError} When a step fails; the old content stays.
 *
 * @example
 * ```ts
 * import { writeFileSync } from "@atomic-write/atomic-write";
 * const path = Deno.makeTempFileSync();
 * writeFileSync(path, new Uint16Array([1, 2, 3]));
 * console.assert(Deno.readFileSync(path).length === 6);
 * ```
 */
export const writeFileSync: AtomicWriteApi["writeFileSync"] = api.writeFileSync;

/**
 * The synchronous {@linkcode writeTextFile}.
 *
 * @param path The file to replace.
 * @param text The new content.
 * @param options As for `writeFile`, without `signal` and `coalesce`.
 * @throws {AtomicWriteError} When a step fails; the old content stays.
 *
 * @example
 * ```ts
 * import { writeTextFileSync } from "@atomic-write/atomic-write";
 * const path = Deno.makeTempFileSync();
 * writeTextFileSync(path, "done");
 * ```
 */
export const writeTextFileSync: AtomicWriteApi["writeTextFileSync"] =
  api.writeTextFileSync;

/**
 * Opens a pending atomic write for incremental output. The content goes to a
 * temp file; the target keeps its old content, and can still be read, until
 * `commit()`. Disposing it without a commit discards it, so `await using`
 * can never leave a half-written target.
 *
 * @param path The file to replace.
 * @param options As for `writeFile`, without `coalesce`.
 * @returns The pending file.
 * @throws {AtomicWriteError} When the temp file cannot be created.
 *
 * @example Transform a file into itself (the `sponge` pattern)
 * ```ts
 * import { openAtomic } from "@atomic-write/atomic-write";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "one\ntwo\n");
 * {
 *   await using file = await openAtomic(path);
 *   const text = await Deno.readTextFile(path); // still the old content
 *   await file.write(text.toUpperCase());
 *   await file.commit();
 * }
 * console.assert((await Deno.readTextFile(path)) === "ONE\nTWO\n");
 * ```
 */
export const openAtomic: AtomicWriteApi["openAtomic"] = api.openAtomic;

/**
 * Replaces the file at `path` with what `fn` makes of its current content,
 * as one step against every other `updateFile`, `updateTextFile` and
 * `lockFile` of the file: in this process, in other processes and runtimes
 * (through the lock file `.NAME.lock` beside the target) and, in OPFS, in
 * other tabs and workers (through a Web Lock). The content is read under the
 * lock, and the new content written with the normal atomic protocol. A lock
 * left by a process that died is broken automatically (see the README,
 * "Locked updates").
 *
 * @param path The file to update.
 * @param fn Gets the current bytes (`undefined` if there is no file) and
 * returns the new content (any data `writeFile` takes).
 * @param options The write options plus `signal` and `lockTimeout`; see
 * {@linkcode UpdateOptions}.
 * @returns A promise that resolves once the new content is written and the
 * lock released.
 * @throws {AtomicWriteError} Step `"lock"`, code `"ETIMEDOUT"`, when
 * `lockTimeout` expires; or a failed write. The file is then untouched.
 * An abort rejects with the signal's reason, and an error of `fn` is
 * rethrown; both leave the file untouched.
 *
 * @example Count across processes
 * ```ts
 * import { updateFile } from "@atomic-write/atomic-write";
 * const path = `${await Deno.makeTempDir()}/count`;
 * await updateFile(path, (old) => String(Number(old ? new TextDecoder().decode(old) : 0) + 1));
 * console.assert((await Deno.readTextFile(path)) === "1");
 * ```
 */
export const updateFile: AtomicWriteApi["updateFile"] = api.updateFile;

/**
 * Like {@linkcode updateFile}, with the content as UTF-8 text.
 *
 * @param path The file to update.
 * @param fn Gets the current text (`undefined` if there is no file) and
 * returns the new text.
 * @param options See {@linkcode UpdateOptions}.
 * @returns A promise that resolves once the new text is written.
 * @throws {AtomicWriteError} As for `updateFile`.
 *
 * @example Update a JSON file
 * ```ts
 * import { updateTextFile } from "@atomic-write/atomic-write";
 * const path = `${await Deno.makeTempDir()}/state.json`;
 * await updateTextFile(path, (old) => {
 *   const state = old === undefined ? { visits: 0 } : JSON.parse(old);
 *   state.visits++;
 *   return JSON.stringify(state);
 * }, { lockTimeout: 5_000 });
 * console.assert(JSON.parse(await Deno.readTextFile(path)).visits === 1);
 * ```
 */
export const updateTextFile: AtomicWriteApi["updateTextFile"] =
  api.updateTextFile;

/**
 * Takes the lock that {@linkcode updateFile} takes, until `release()`, for
 * updates that are more than one write. Plain writes ignore the lock.
 *
 * @param path The file to lock (it need not exist).
 * @param options See {@linkcode LockOptions}.
 * @returns The held lock.
 * @throws {AtomicWriteError} Step `"lock"`, code `"ETIMEDOUT"`, when
 * `timeout` expires; an abort rejects with the signal's reason.
 *
 * @example
 * ```ts
 * import { lockFile, writeTextFile } from "@atomic-write/atomic-write";
 * const path = `${await Deno.makeTempDir()}/data.txt`;
 * {
 *   await using _lock = await lockFile(path, { timeout: 1_000 });
 *   await writeTextFile(path, "written under the lock");
 * }
 * ```
 */
export const lockFile: AtomicWriteApi["lockFile"] = api.lockFile;

/**
 * Removes the temp files that a crash left in `directory`: only names of
 * this library's pattern (`.NAME.XXXXXXXXXXXXXXXX.atomic-tmp`), only regular
 * files, only those not modified for `olderThan` milliseconds.
 *
 * @param directory The directory to clean.
 * @param options See {@linkcode CleanupOptions}.
 * @returns The paths removed.
 *
 * @example Clean up at start-up
 * ```ts
 * import { cleanupTemps } from "@atomic-write/atomic-write";
 * const dir = await Deno.makeTempDir();
 * console.assert((await cleanupTemps(dir, { olderThan: 0 })).length === 0);
 * ```
 */
export const cleanupTemps: AtomicWriteApi["cleanupTemps"] = api.cleanupTemps;
