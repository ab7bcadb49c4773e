/**
 * A drop-in replacement for the npm package
 * [`write-file-atomic`](https://www.npmjs.com/package/write-file-atomic)
 * (version 8): the same default export with its callback and promise forms,
 * `.sync`, and the options `chown`, `mode`, `fsync` and `encoding`, over
 * this library's atomic write. Change only the import line.
 *
 * Where it differs, on purpose: a full disk (ENOSPC) or any other failure
 * rejects and keeps the old file (the original can rename a truncated temp
 * file over it and resolve); the directory is fsynced after the rename;
 * typed arrays are written whole; an explicit `mode` is filtered by the
 * umask; an explicit `chown` that fails is an error; `tmpfileCreated` is
 * refused with a TypeError; errors are `AtomicWriteError`s with the same
 * `code`. The README's "Migrating" section lists every difference.
 *
 * @example One changed import line
 * ```ts
 * import writeFileAtomic from "@atomic-write/atomic-write/compat/write-file-atomic";
 * const path = await Deno.makeTempFile();
 * await writeFileAtomic(path, "promise form", { mode: 0o600 });
 * writeFileAtomic.sync(path, "sync form");
 * console.assert((await Deno.readTextFile(path)) === "sync form");
 * ```
 *
 * @module
 */

import { writeFile, writeFileSync } from "../auto.ts";
import type { Ownership, SyncWriteOptions } from "../options.ts";
import {
  encodeText,
  parseChown,
  parseMode,
  refuseTempOption,
} from "./_shared.ts";

export { AtomicWriteError, type AtomicWriteStep } from "../errors.ts";
export type { Ownership } from "../options.ts";

/**
 * The options of `write-file-atomic`, or an encoding name alone.
 *
 * @example
 * ```ts
 * import writeFileAtomic, { type Options } from "@atomic-write/atomic-write/compat/write-file-atomic";
 * const options: Options = { fsync: false, encoding: "utf8" };
 * await writeFileAtomic(await Deno.makeTempFile(), "cache", options);
 * ```
 */
export interface Options {
  /**
   * Owner and group of the written file, or `false` to leave them to the
   * operating system. An explicit owner that cannot be applied is an error
   * (the original ignores `EPERM`/`EINVAL` for non-root users).
   *
   * @default {the existing file's owner and group, where permitted}
   */
  chown?: Ownership | false;
  /**
   * Permission bits (a number or an octal string such as `"0644"`),
   * filtered by the umask as by `open(2)`; `false` or nothing keeps the
   * existing file's bits (`0o666` filtered by the umask for a new file).
   *
   * @default {the existing file's permission bits}
   */
  mode?: number | string | false;
  /**
   * `false` skips every fsync (this library's `durability: "none"`); the
   * default fsyncs the temp file and, unlike the original, the directory
   * after the rename (`durability: "full"`).
   *
   * @default {true}
   */
  fsync?: boolean;
  /**
   * The encoding of string data: any of Node's encodings (`"utf8"`,
   * `"latin1"`, `"utf16le"`, `"base64"`, `"hex"`, ...). Ignored for bytes.
   *
   * @default {"utf8"}
   */
  encoding?: string | null;
  /**
   * Not supported: this library does not expose its temp file's path. Any
   * value is a TypeError, so that code relying on it fails at once.
   */
  tmpfileCreated?: (tmpfile: string) => unknown;
}

/**
 * What the original accepts as data: a string, bytes, or anything it turns
 * into a string with `String()`; `null` and `undefined` write an empty file.
 *
 * @example
 * ```ts
 * import type { Data } from "@atomic-write/atomic-write/compat/write-file-atomic";
 * const data: Data = new Uint8Array([52, 50]);
 * console.assert(data !== undefined);
 * ```
 */
export type Data = unknown;

/**
 * The callback of the callback form: called with no argument after a
 * successful write, or with the error.
 *
 * @example
 * ```ts
 * import writeFileAtomic, { type Callback } from "@atomic-write/atomic-write/compat/write-file-atomic";
 * const done: Callback = (error) => { if (error) throw error; };
 * await writeFileAtomic(await Deno.makeTempFile(), "x", done);
 * ```
 */
export type Callback = (error?: Error) => unknown;

/**
 * The default export: `writeFileAtomic(filename, data, options?, callback?)`
 * with `.sync` attached, as in the original.
 *
 * @example
 * ```ts
 * import writeFileAtomic, { type WriteFileAtomic } from "@atomic-write/atomic-write/compat/write-file-atomic";
 * const write: WriteFileAtomic = writeFileAtomic;
 * write.sync(Deno.makeTempFileSync(), "x");
 * ```
 */
export interface WriteFileAtomic {
  /** The promise form; also calls `callback` if one is given. */
  (
    filename: string | URL,
    data: Data,
    options?: Options | string | null,
    callback?: Callback,
  ): Promise<unknown>;
  /** The callback form with the options left out. */
  (filename: string | URL, data: Data, callback: Callback): Promise<unknown>;
  /** The synchronous form. */
  sync(
    filename: string | URL,
    data: Data,
    options?: Options | string | null,
  ): void;
}

const NAME = "writeFileAtomic";

/** The original's options mapped onto this library's (throws TypeErrors). */
function mapOptions(
  input: Options | string | null | undefined,
  fn: string,
): { encoding: unknown; options: SyncWriteOptions } {
  const given: Options = typeof input === "string"
    ? { encoding: input }
    : input ?? {};
  if (typeof given !== "object") {
    throw new TypeError(
      `Expected the options of ${fn} to be an object or an encoding name, got ${typeof given}`,
    );
  }
  refuseTempOption(given as Record<string, unknown>, ["tmpfileCreated"], fn);
  const options: SyncWriteOptions = {
    durability: given.fsync === false ? "none" : "full",
  };
  const mode = parseMode(given.mode, fn);
  if (mode !== undefined) options.mode = mode;
  const chown = parseChown(given.chown, fn);
  if (chown !== undefined) options.chown = chown;
  return { encoding: given.encoding, options };
}

/**
 * The bytes or text to write: views and ArrayBuffers as bytes (whole, where
 * the original writes `length` bytes of a view: half a Uint16Array),
 * `null`/`undefined` as an empty file, anything else through `String()` as
 * the original does.
 */
function toData(
  data: unknown,
  encoding: unknown,
  fn: string,
): string | Uint8Array | ArrayBufferView | ArrayBuffer {
  if (ArrayBuffer.isView(data) || data instanceof ArrayBuffer) return data;
  if (data === null || data === undefined) return "";
  return encodeText(String(data), encoding, fn);
}

function writeFileAtomicAsync(
  filename: string | URL,
  data: Data,
  options?: Options | string | null,
): Promise<void> {
  try {
    const mapped = mapOptions(options, NAME);
    return writeFile(
      filename,
      toData(data, mapped.encoding, NAME),
      mapped.options,
    );
  } catch (error) {
    return Promise.reject(error);
  }
}

function writeFileAtomicFn(
  filename: string | URL,
  data: Data,
  options?: Options | string | null | Callback,
  callback?: Callback,
): Promise<unknown> {
  if (typeof options === "function") {
    callback = options;
    options = undefined;
  }
  const written = writeFileAtomicAsync(filename, data, options);
  if (!callback) return written;
  const done = callback;
  // As in the original: the callback gets no argument on success, and the
  // promise settles with what the callback returns.
  return written.then(() => done(), (error) => done(error));
}

/**
 * The synchronous form, also the `sync` named export: replaces `filename`
 * atomically before it returns.
 *
 * @param filename The file to replace (symbolic links are followed).
 * @param data The new content; see {@linkcode Data}.
 * @param options See {@linkcode Options}, or an encoding name.
 * @throws {AtomicWriteError} When a step fails; the old content stays.
 * @throws {TypeError} For an unsupported option (`tmpfileCreated`) or value.
 *
 * @example
 * ```ts
 * import { sync } from "@atomic-write/atomic-write/compat/write-file-atomic";
 * const path = Deno.makeTempFileSync();
 * sync(path, "saved", "utf8");
 * console.assert(Deno.readTextFileSync(path) === "saved");
 * ```
 */
export function sync(
  filename: string | URL,
  data: Data,
  options?: Options | string | null,
): void {
  const mapped = mapOptions(options, `${NAME}.sync`);
  writeFileSync(
    filename,
    toData(data, mapped.encoding, `${NAME}.sync`),
    mapped.options,
  );
}

/**
 * Atomically replaces `filename` with `data`, like `write-file-atomic`:
 * returns a promise, and calls `callback` (with no argument on success, with
 * the error on failure) when one is given. Writes to one file are applied
 * in call order. `writeFileAtomic.sync` is the synchronous form.
 *
 * @param filename The file to replace (symbolic links are followed).
 * @param data The new content; see {@linkcode Data}.
 * @param options See {@linkcode Options}, or an encoding name, or the
 * callback.
 * @param callback Called once the write is done or failed.
 * @returns A promise of the write (of the callback's result, with a
 * callback).
 * @throws {AtomicWriteError} When a step fails (through the promise or the
 * callback); the old content stays and no temp file is left.
 *
 * @example Promise and callback forms
 * ```ts
 * import writeFileAtomic from "@atomic-write/atomic-write/compat/write-file-atomic";
 * const path = await Deno.makeTempFile();
 * await writeFileAtomic(path, "one");
 * await new Promise<void>((resolve, reject) =>
 *   writeFileAtomic(path, "two", { fsync: false }, (error) => error ? reject(error) : resolve())
 * );
 * console.assert((await Deno.readTextFile(path)) === "two");
 * ```
 */
const writeFileAtomic: WriteFileAtomic = Object.assign(writeFileAtomicFn, {
  sync,
});

export default writeFileAtomic;
