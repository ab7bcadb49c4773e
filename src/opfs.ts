/**
 * The API bound to the browser's Origin Private File System. Paths are
 * `/`-separated and relative to the OPFS root (`"notes/today.json"`), or to
 * the `root` option's directory handle. Writers of one path are serialised
 * across tabs and workers with Web Locks (option `locks`, default true).
 *
 * OPFS has no fsync: `durability` other than `"none"`, `mode` and `chown` are
 * rejected with a TypeError, and there are no synchronous variants. The
 * functions share the docs of the main entry (`mod.ts`).
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

import { createAtomicWrite } from "./_api.ts";
import { createOpfsBackend } from "./backends/opfs.ts";
import type { AtomicWriteApi } from "./options.ts";

// Bound like `deno.ts` (see there why each function is named here), without
// the synchronous functions: OPFS has none.
const api = createAtomicWrite(() => createOpfsBackend());

/** `writeFile` of `mod.ts`, writing to OPFS. */
export const writeFile: AtomicWriteApi["writeFile"] = api.writeFile;
/** `writeTextFile` of `mod.ts`, writing to OPFS. */
export const writeTextFile: AtomicWriteApi["writeTextFile"] = api.writeTextFile;
/**
 * `openAtomic` of `mod.ts`, writing to OPFS. The Web Lock of the path is
 * held from `openAtomic` until `commit()` or `discard()`.
 */
export const openAtomic: AtomicWriteApi["openAtomic"] = api.openAtomic;
/** `updateFile` of `mod.ts`, in OPFS (across tabs and workers, with Web Locks). */
export const updateFile: AtomicWriteApi["updateFile"] = api.updateFile;
/** `updateTextFile` of `mod.ts`, in OPFS (across tabs and workers, with Web Locks). */
export const updateTextFile: AtomicWriteApi["updateTextFile"] =
  api.updateTextFile;
/** `lockFile` of `mod.ts`, in OPFS (across tabs and workers, with Web Locks). */
export const lockFile: AtomicWriteApi["lockFile"] = api.lockFile;
/** `cleanupTemps` of `mod.ts`, for an OPFS directory. */
export const cleanupTemps: AtomicWriteApi["cleanupTemps"] = api.cleanupTemps;

export { AtomicWriteError, type AtomicWriteStep } from "./errors.ts";
export type * from "./options.ts";
