/**
 * Crash-safe atomic file writes for Deno, Bun and Node.
 *
 * A write goes to a temp file beside the target, which is fsynced, renamed
 * over the target, and then the directory is fsynced: a crash, `kill -9` or
 * power cut at any moment leaves the complete old or the complete new
 * content, never a torn or empty file.
 *
 * The backend is picked from the runtime (Deno, then Bun, then Node); the
 * subpath exports `./deno`, `./bun` and `./node` bind one backend.
 *
 * @example Replace a file atomically
 * ```ts
 * import { writeFile } from "@atomic-write/atomic-write";
 * const path = await Deno.makeTempFile();
 * await writeFile(path, "new content");
 * console.assert((await Deno.readTextFile(path)) === "new content");
 * ```
 *
 * @module
 */

export * from "./src/auto.ts";
export * from "./src/errors.ts";
export * from "./src/options.ts";
export * from "./src/runtime.ts";
