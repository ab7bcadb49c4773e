/**
 * The API bound to the Deno backend, for code that knows its runtime and
 * wants to load only that backend. The same functions and options as the main
 * entry (`mod.ts`), whose docs they share.
 *
 * @example
 * ```ts
 * import { writeTextFile } from "@atomic-write/atomic-write/deno";
 * await writeTextFile(await Deno.makeTempFile(), "x");
 * ```
 *
 * @module
 */

import { createAtomicWrite } from "./_api.ts";
import type { Backend } from "./_backend.ts";
import { createDenoBackend } from "./backends/deno.ts";
import type { AtomicWriteApi } from "./options.ts";

// The functions are defined once, by `createAtomicWrite`, and documented once,
// in `auto.ts` (the main entry). An entry only binds its backend and names each
// function, because JSR wants one explicitly typed and documented declaration
// per export (`export const { ... } = api` is a slow type there).
// tests/entries_test.ts fails if an entry lacks a function of the API.
const api = createAtomicWrite(() => createDenoBackend() as Backend);

/** `writeFile` of `mod.ts`, bound to the Deno backend. */
export const writeFile: AtomicWriteApi["writeFile"] = api.writeFile;
/** `writeTextFile` of `mod.ts`, bound to the Deno backend. */
export const writeTextFile: AtomicWriteApi["writeTextFile"] = api.writeTextFile;
/** `writeFileSync` of `mod.ts`, bound to the Deno backend. */
export const writeFileSync: AtomicWriteApi["writeFileSync"] = api.writeFileSync;
/** `writeTextFileSync` of `mod.ts`, bound to the Deno backend. */
export const writeTextFileSync: AtomicWriteApi["writeTextFileSync"] =
  api.writeTextFileSync;
/** `openAtomic` of `mod.ts`, bound to the Deno backend. */
export const openAtomic: AtomicWriteApi["openAtomic"] = api.openAtomic;
/** `updateFile` of `mod.ts`, bound to the Deno backend. */
export const updateFile: AtomicWriteApi["updateFile"] = api.updateFile;
/** `updateTextFile` of `mod.ts`, bound to the Deno backend. */
export const updateTextFile: AtomicWriteApi["updateTextFile"] =
  api.updateTextFile;
/** `lockFile` of `mod.ts`, bound to the Deno backend. */
export const lockFile: AtomicWriteApi["lockFile"] = api.lockFile;
/** `cleanupTemps` of `mod.ts`, bound to the Deno backend. */
export const cleanupTemps: AtomicWriteApi["cleanupTemps"] = api.cleanupTemps;

export { AtomicWriteError, type AtomicWriteStep } from "./errors.ts";
export type * from "./options.ts";
