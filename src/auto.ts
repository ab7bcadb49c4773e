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
