/**
 * The main entry as a bundler targeting browsers gets it (the `browser`
 * condition of the npm package's `"."` export): the same exports as `mod.ts`,
 * bound to the OPFS backend, so that a browser bundle holds no Deno, Bun or
 * Node backend code and no `node:` import. As in `mod.ts` run in a browser,
 * the synchronous functions throw: OPFS has no synchronous writes.
 *
 * @example
 * ```ts
 * import { writeTextFile } from "@atomic-write/atomic-write";
 * if ("document" in globalThis) await writeTextFile("a.txt", "x");
 * ```
 *
 * @module
 */

import { createAtomicWrite } from "./_api.ts";
import { createOpfsBackend } from "./backends/opfs.ts";
import type { AtomicWriteApi } from "./options.ts";

// Bound like `deno.ts` (see there why each function is named here).
const api = createAtomicWrite(() => createOpfsBackend());

/** `writeFile` of `mod.ts`, writing to OPFS. */
export const writeFile: AtomicWriteApi["writeFile"] = api.writeFile;
/** `writeTextFile` of `mod.ts`, writing to OPFS. */
export const writeTextFile: AtomicWriteApi["writeTextFile"] = api.writeTextFile;
/** `writeFileSync` of `mod.ts`: throws, OPFS has no synchronous writes. */
export const writeFileSync: AtomicWriteApi["writeFileSync"] = api.writeFileSync;
/** `writeTextFileSync` of `mod.ts`: throws, as `writeFileSync` does. */
export const writeTextFileSync: AtomicWriteApi["writeTextFileSync"] =
  api.writeTextFileSync;
/** `openAtomic` of `mod.ts`, writing to OPFS. */
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

export * from "./errors.ts";
export type * from "./options.ts";
export * from "./runtime.ts";
