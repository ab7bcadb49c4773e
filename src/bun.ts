/**
 * The API bound to the Bun backend, for code that knows its runtime and
 * wants to load only that backend. Same functions and options as `mod.ts`.
 *
 * @module
 */

import { type AtomicWriteApi, createAtomicWrite } from "./_api.ts";
import type { Backend } from "./_backend.ts";
import { createBunBackend } from "./backends/bun.ts";

const api = createAtomicWrite(() => createBunBackend() as Backend);

/**
 * `writeFile` of `mod.ts`, bound to the Bun backend.
 *
 * @example
 * ```ts
 * import { writeFile } from "@atomic-write/atomic-write/bun";
 * if ("Bun" in globalThis) await writeFile(await Deno.makeTempFile(), "x");
 * ```
 */
export const writeFile: AtomicWriteApi["writeFile"] = api.writeFile;

/**
 * `writeTextFile` of `mod.ts`, bound to the Bun backend.
 *
 * @example
 * ```ts
 * import { writeTextFile } from "@atomic-write/atomic-write/bun";
 * if ("Bun" in globalThis) await writeTextFile(await Deno.makeTempFile(), "x");
 * ```
 */
export const writeTextFile: AtomicWriteApi["writeTextFile"] = api.writeTextFile;

/**
 * `writeFileSync` of `mod.ts`, bound to the Bun backend.
 *
 * @example
 * ```ts
 * import { writeFileSync } from "@atomic-write/atomic-write/bun";
 * if ("Bun" in globalThis) writeFileSync(Deno.makeTempFileSync(), "x");
 * ```
 */
export const writeFileSync: AtomicWriteApi["writeFileSync"] = api.writeFileSync;

/**
 * `writeTextFileSync` of `mod.ts`, bound to the Bun backend.
 *
 * @example
 * ```ts
 * import { writeTextFileSync } from "@atomic-write/atomic-write/bun";
 * if ("Bun" in globalThis) writeTextFileSync(Deno.makeTempFileSync(), "x");
 * ```
 */
export const writeTextFileSync: AtomicWriteApi["writeTextFileSync"] =
  api.writeTextFileSync;

/**
 * `openAtomic` of `mod.ts`, bound to the Bun backend.
 *
 * @example
 * ```ts
 * import { openAtomic } from "@atomic-write/atomic-write/bun";
 * if ("Bun" in globalThis) {
 *   await using file = await openAtomic(await Deno.makeTempFile());
 *   await file.write("x");
 *   await file.commit();
 * }
 * ```
 */
export const openAtomic: AtomicWriteApi["openAtomic"] = api.openAtomic;

/**
 * `cleanupTemps` of `mod.ts`, bound to the Bun backend.
 *
 * @example
 * ```ts
 * import { cleanupTemps } from "@atomic-write/atomic-write/bun";
 * if ("Bun" in globalThis) await cleanupTemps(await Deno.makeTempDir());
 * ```
 */
export const cleanupTemps: AtomicWriteApi["cleanupTemps"] = api.cleanupTemps;

export { AtomicWriteError, type AtomicWriteStep } from "./errors.ts";
export type * from "./options.ts";
