/**
 * The API bound to the browser's Origin Private File System. Paths are
 * `/`-separated and relative to the OPFS root (`"notes/today.json"`), or to
 * the `root` option's directory handle. Writers of one path are serialised
 * across tabs and workers with Web Locks (option `locks`, default true).
 *
 * OPFS has no fsync: `durability` other than `"none"`, `mode` and `chown` are
 * rejected with a TypeError, and there are no synchronous variants.
 *
 * @example Save a note from a web page
 * ```ts
 * import { writeTextFile } from "@atomic-write/atomic-write/opfs";
 * if ("document" in globalThis) {
 *   await writeTextFile("notes/today.md", "# Today", { createParents: true });
 * }
 * ```
 *
 * @module
 */

import { type AtomicWriteApi, createAtomicWrite } from "./_api.ts";
import { createOpfsBackend } from "./backends/opfs.ts";

const api = createAtomicWrite(() => createOpfsBackend());

/**
 * `writeFile` of `mod.ts`, writing to OPFS.
 *
 * @example
 * ```ts
 * import { writeFile } from "@atomic-write/atomic-write/opfs";
 * if ("document" in globalThis) await writeFile("data.bin", new Uint8Array(8));
 * ```
 */
export const writeFile: AtomicWriteApi["writeFile"] = api.writeFile;

/**
 * `writeTextFile` of `mod.ts`, writing to OPFS.
 *
 * @example
 * ```ts
 * import { writeTextFile } from "@atomic-write/atomic-write/opfs";
 * if ("document" in globalThis) await writeTextFile("a.txt", "x");
 * ```
 */
export const writeTextFile: AtomicWriteApi["writeTextFile"] = api.writeTextFile;

/**
 * `openAtomic` of `mod.ts`, writing to OPFS. The Web Lock of the path is
 * held from `openAtomic` until `commit()` or `discard()`.
 *
 * @example
 * ```ts
 * import { openAtomic } from "@atomic-write/atomic-write/opfs";
 * if ("document" in globalThis) {
 *   await using file = await openAtomic("log.txt");
 *   await file.write("line\n");
 *   await file.commit();
 * }
 * ```
 */
export const openAtomic: AtomicWriteApi["openAtomic"] = api.openAtomic;

/**
 * `cleanupTemps` of `mod.ts`, for an OPFS directory.
 *
 * @example
 * ```ts
 * import { cleanupTemps } from "@atomic-write/atomic-write/opfs";
 * if ("document" in globalThis) await cleanupTemps("/", { olderThan: 0 });
 * ```
 */
export const cleanupTemps: AtomicWriteApi["cleanupTemps"] = api.cleanupTemps;

export { AtomicWriteError, type AtomicWriteStep } from "./errors.ts";
export type * from "./options.ts";
