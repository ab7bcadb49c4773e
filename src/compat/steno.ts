/**
 * A drop-in replacement for the npm package
 * [`steno`](https://www.npmjs.com/package/steno) (version 4), the writer
 * under lowdb's `TextFile` adapter: its `Writer` class, whose concurrent
 * writes coalesce, over this library's atomic write with `coalesce: true`.
 * Change only the import line.
 *
 * Where it differs, on purpose: every write is fsynced, with the directory
 * after the rename (the original never fsyncs, so a power cut can leave an
 * empty file; pass `{ durability: "none" }` to opt out); a failed write
 * rejects only the calls whose data it carried and leaves no temp file (the
 * original leaves `.NAME.tmp` and can reject an earlier, successful call);
 * temp names are unique, so two writers of one file do not collide. The
 * README's "Migrating" section lists every difference.
 *
 * @example One changed import line
 * ```ts
 * import { Writer } from "@atomic-write/atomic-write/compat/steno";
 * const file = new Writer(await Deno.makeTempFile());
 * await Promise.all([file.write("1"), file.write("2"), file.write("3")]);
 * ```
 *
 * @module
 */

import { writeFile } from "../auto.ts";
import type { Durability, WriteData, WriteOptions } from "../options.ts";

export { AtomicWriteError, type AtomicWriteStep } from "../errors.ts";
export type { Durability, WriteChunk, WriteData } from "../options.ts";

/**
 * Options of this shim's `Writer`, which the original does not have.
 *
 * @example
 * ```ts
 * import { Writer, type WriterOptions } from "@atomic-write/atomic-write/compat/steno";
 * const options: WriterOptions = { durability: "file" };
 * await new Writer(await Deno.makeTempFile(), options).write("x");
 * ```
 */
export interface WriterOptions {
  /**
   * How much of a write must survive a power cut once its promise resolves;
   * see this library's `Durability`. `"none"` is the original's behaviour.
   *
   * @default {"full"}
   */
  durability?: Durability;
}

/**
 * Writes one file, fast and safe under concurrent calls: a write made while
 * another is in progress waits, and of several waiting writes only the
 * newest data is written. Every call's promise resolves once the file holds
 * its data or newer data.
 *
 * @example lowdb-style saving
 * ```ts
 * import { Writer } from "@atomic-write/atomic-write/compat/steno";
 * const path = await Deno.makeTempFile();
 * const writer = new Writer(path);
 * await Promise.all(
 *   Array.from({ length: 100 }, (_, i) => writer.write(String(i + 1))),
 * );
 * console.assert((await Deno.readTextFile(path)) === "100");
 * ```
 */
export class Writer {
  #filename: string | URL;
  #options: WriteOptions;

  /**
   * Creates a writer of `filename`; nothing is touched until `write`.
   *
   * @param filename The file to write (a string or `file:` URL).
   * @param options See {@linkcode WriterOptions} (not in the original).
   */
  constructor(filename: string | URL, options: WriterOptions = {}) {
    this.#filename = filename;
    // One options object for every call, so that all calls may coalesce.
    this.#options = { coalesce: true, durability: options.durability };
  }

  /**
   * Replaces the file's content with `data`, atomically.
   *
   * @param data Text (written as UTF-8), bytes, or an (async) iterable or
   * stream of chunks.
   * @returns A promise that resolves once the file holds `data` or the data
   * of a later call.
   * @throws {AtomicWriteError} When the write carrying `data` fails; the file
   * keeps its previous content.
   */
  write(data: WriteData): Promise<void> {
    return writeFile(this.#filename, data, this.#options);
  }
}
