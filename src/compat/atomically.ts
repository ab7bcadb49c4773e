/**
 * A drop-in replacement for the npm package
 * [`atomically`](https://www.npmjs.com/package/atomically) (version 2):
 * `writeFile` and `writeFileSync` with its options, and `readFile` /
 * `readFileSync`, over this library's atomic write. Change only the import
 * line.
 *
 * Where it differs, on purpose: a full disk (ENOSPC) or any other failure
 * rejects and keeps the old file (the original can rename a truncated temp
 * file over it and resolve); the directory is fsynced after the rename;
 * `fsyncWait: false` still waits for the file's fsync; an explicit `mode` is
 * filtered by the umask; `chown` and `mode` failures are errors;
 * `tmpCreate`, `tmpCreated` and `tmpPurge: false` are refused with a
 * TypeError; `timeout` bounds only the retries of busy renames and unlinks
 * (`busyRetry`). The README's "Migrating" section lists every difference.
 *
 * @example One changed import line
 * ```ts
 * import { writeFile, writeFileSync } from "@atomic-write/atomic-write/compat/atomically";
 * const dir = await Deno.makeTempDir();
 * await writeFile(`${dir}/nested/config.json`, "{}"); // creates "nested"
 * writeFileSync(`${dir}/nested/config.json`, "{ }", { fsyncWait: false });
 * ```
 *
 * @module
 */

import {
  readFile as nodeReadFile,
  readFileSync as nodeReadFileSync,
} from "node:fs";
import type { Buffer } from "node:buffer";
import { fileURLToPath } from "node:url";
import {
  writeFile as atomicWriteFile,
  writeFileSync as atomicWriteFileSync,
} from "../auto.ts";
import type {
  Durability,
  Ownership,
  SyncWriteOptions,
  WriteChunk,
} from "../options.ts";
import {
  encodeText,
  parseChown,
  parseMode,
  refuseTempOption,
} from "./_shared.ts";

export { AtomicWriteError, type AtomicWriteStep } from "../errors.ts";
export type { Ownership, WriteChunk } from "../options.ts";

/**
 * A function that releases a slot of a custom scheduler.
 *
 * @example
 * ```ts
 * import type { Disposer } from "@atomic-write/atomic-write/compat/atomically";
 * const release: Disposer = () => {};
 * release();
 * ```
 */
export type Disposer = () => void;

/**
 * The options of `atomically`'s `writeFile` and `writeFileSync`, or an
 * encoding name alone.
 *
 * @example
 * ```ts
 * import { writeFile, type WriteOptions } from "@atomic-write/atomic-write/compat/atomically";
 * const options: WriteOptions = { chown: false, mode: false };
 * await writeFile(await Deno.makeTempFile(), "x", options);
 * ```
 */
export interface WriteOptions {
  /**
   * Owner and group of the written file, or `false` to leave them to the
   * operating system. An explicit owner that cannot be applied is an error
   * (the original ignores every chown error).
   *
   * @default {the existing file's owner and group, where permitted}
   */
  chown?: Ownership | false;
  /**
   * The encoding of string data: any of Node's encodings. Ignored for bytes
   * and streams.
   *
   * @default {"utf8"}
   */
  encoding?: string | null;
  /**
   * `false` skips every fsync (this library's `durability: "none"`).
   *
   * @default {true}
   */
  fsync?: boolean;
  /**
   * `false` skips the directory fsync after the rename (`durability:
   * "file"`). Unlike the original, which fires the file's fsync without
   * waiting for it, the file is still fsynced before the rename: without
   * that, a power cut can leave an empty or zero-filled file.
   *
   * @default {true}
   */
  fsyncWait?: boolean;
  /**
   * Permission bits (a number or an octal string), filtered by the umask as
   * by `open(2)`; `false` means `0o666` filtered by the umask.
   *
   * @default {the existing file's permission bits}
   */
  mode?: number | string | false;
  /**
   * Called with the target path before the write; the write starts when the
   * returned promise resolves, and the disposer it resolves to is called
   * once the write has succeeded or failed.
   *
   * @default {undefined}
   */
  schedule?: (filePath: string) => Promise<Disposer>;
  /**
   * How long, in milliseconds, a rename or temp-file unlink failing with
   * `EPERM`, `EACCES` or `EBUSY` is retried (this library's `busyRetry:
   * { attempts: 1000, totalTime: timeout }`); `0` or a negative number: no
   * retry. Without it, this library's default applies (retries on Windows
   * only, where those errors are transient), not the original's 7.5 s on
   * every platform. `EMFILE`/`ENFILE` are retried by this library anyway.
   *
   * @default {undefined}
   */
  timeout?: number;
  /** Not supported (a TypeError): this library names its own temp files. */
  tmpCreate?: (filePath: string) => string;
  /** Not supported (a TypeError): this library does not expose temp paths. */
  tmpCreated?: (filePath: string) => unknown;
  /**
   * Only `true` is supported: a failed write always removes its temp file.
   *
   * @default {true}
   */
  tmpPurge?: boolean;
}

/**
 * The options of `readFile` and `readFileSync`, or an encoding name alone.
 *
 * @example
 * ```ts
 * import { readFile, type ReadOptions } from "@atomic-write/atomic-write/compat/atomically";
 * const options: ReadOptions = { encoding: "utf8" };
 * console.assert(typeof (await readFile(await Deno.makeTempFile(), options)) === "string");
 * ```
 */
export interface ReadOptions {
  /**
   * The encoding to decode with; without one a `Buffer` is returned.
   *
   * @default {null}
   */
  encoding?: string | null;
  /** Accepted for compatibility and not used (no read retries). */
  timeout?: number;
}

/**
 * What `writeFile` accepts: a string, bytes, a Node `Readable` (or any
 * async iterable of chunks), or `undefined` for an empty file.
 *
 * @example
 * ```ts
 * import type { Data } from "@atomic-write/atomic-write/compat/atomically";
 * const data: Data = "text";
 * console.assert(data === "text");
 * ```
 */
export type Data =
  | string
  | ArrayBufferView
  | AsyncIterable<WriteChunk>
  | undefined;

/**
 * The optional callback of `writeFile`: no argument on success, the error
 * on failure.
 *
 * @example
 * ```ts
 * import type { Callback } from "@atomic-write/atomic-write/compat/atomically";
 * const done: Callback = (error) => { if (error) console.error(error); };
 * done();
 * ```
 */
export type Callback = (error?: Error) => void;

interface Mapped {
  encoding: unknown;
  options: SyncWriteOptions;
  schedule?: (filePath: string) => Promise<Disposer>;
}

function mapOptions(
  input: WriteOptions | string | undefined,
  fn: string,
): Mapped {
  const given: WriteOptions = typeof input === "string"
    ? { encoding: input }
    : input ?? {};
  if (typeof given !== "object" || given === null) {
    throw new TypeError(
      `Expected the options of ${fn} to be an object or an encoding name, got ${
        given === null ? "null" : typeof given
      }`,
    );
  }
  refuseTempOption(
    given as Record<string, unknown>,
    ["tmpCreate", "tmpCreated"],
    fn,
  );
  if (given.tmpPurge === false) {
    throw new TypeError(
      `The "tmpPurge: false" option of ${fn} is not supported: a failed write always removes its temp file and keeps the old content (see the README, "Migrating")`,
    );
  }
  const durability: Durability = given.fsync === false
    ? "none"
    : given.fsyncWait === false
    ? "file"
    : "full";
  // atomically creates missing parent directories itself.
  const options: SyncWriteOptions = { durability, createParents: true };
  // mode: false means 0o666 under the umask, as the original opens it.
  const mode = given.mode === false ? 0o666 : parseMode(given.mode, fn);
  if (mode !== undefined) options.mode = mode;
  const chown = parseChown(given.chown, fn);
  if (chown !== undefined) options.chown = chown;
  if (given.timeout !== undefined) {
    if (typeof given.timeout !== "number" || Number.isNaN(given.timeout)) {
      throw new TypeError(
        `Expected "timeout" of ${fn} to be a number of milliseconds, got ${typeof given
          .timeout}`,
      );
    }
    options.busyRetry = given.timeout > 0 && Number.isFinite(given.timeout)
      ? { attempts: 1000, totalTime: given.timeout }
      : given.timeout > 0
      ? { attempts: 1000 }
      : false;
  }
  if (given.schedule !== undefined && typeof given.schedule !== "function") {
    throw new TypeError(
      `Expected "schedule" of ${fn} to be a function, got ${typeof given
        .schedule}`,
    );
  }
  return { encoding: given.encoding, options, schedule: given.schedule };
}

async function writeScheduled(
  filePath: string | URL,
  data: Data,
  options: WriteOptions | string | undefined,
): Promise<void> {
  const mapped = mapOptions(options, "writeFile");
  const content = typeof data === "string"
    ? encodeText(data, mapped.encoding, "writeFile")
    : data ?? "";
  const release = mapped.schedule
    ? await mapped.schedule(
      filePath instanceof URL ? fileURLToPath(filePath) : filePath,
    )
    : undefined;
  try {
    await atomicWriteFile(filePath, content, mapped.options);
  } finally {
    release?.();
  }
}

/**
 * Atomically replaces `filePath` with `data`, like `atomically`'s
 * `writeFile`: missing parent directories are created, symbolic links are
 * followed, and writes to one file are applied in call order.
 *
 * @param filePath The file to replace.
 * @param data The new content; see {@linkcode Data}.
 * @param options See {@linkcode WriteOptions}, an encoding name, or the
 * callback.
 * @param callback Called with no argument on success, or with the error.
 * @returns A promise that resolves once the write is done.
 * @throws {AtomicWriteError} When a step fails; the old content stays and no
 * temp file is left.
 * @throws {TypeError} For an unsupported option or value.
 *
 * @example
 * ```ts
 * import { writeFile } from "@atomic-write/atomic-write/compat/atomically";
 * const path = await Deno.makeTempFile();
 * await writeFile(path, "my_data", { fsync: false });
 * console.assert((await Deno.readTextFile(path)) === "my_data");
 * ```
 */
export function writeFile(
  filePath: string | URL,
  data: Data,
  options?: WriteOptions | string | Callback,
  callback?: Callback,
): Promise<void> {
  if (typeof options === "function") {
    callback = options;
    options = undefined;
  }
  const written = writeScheduled(filePath, data, options);
  // As in the original: the callback is called, and the promise returned too.
  if (callback) written.then(() => callback(), (error) => callback(error));
  return written;
}

/**
 * The synchronous {@linkcode writeFile}, for strings and bytes.
 *
 * @param filePath The file to replace.
 * @param data The new content (no streams).
 * @param options See {@linkcode WriteOptions} (`schedule` is not used), or
 * an encoding name.
 * @throws {AtomicWriteError} When a step fails; the old content stays.
 * @throws {TypeError} For an unsupported option or value.
 *
 * @example
 * ```ts
 * import { writeFileSync } from "@atomic-write/atomic-write/compat/atomically";
 * const path = Deno.makeTempFileSync();
 * writeFileSync(path, "my_data", "utf8");
 * console.assert(Deno.readTextFileSync(path) === "my_data");
 * ```
 */
export function writeFileSync(
  filePath: string | URL,
  data: string | ArrayBufferView | undefined,
  options?: WriteOptions | string,
): void {
  const mapped = mapOptions(options, "writeFileSync");
  const content = typeof data === "string"
    ? encodeText(data, mapped.encoding, "writeFileSync")
    : data ?? "";
  atomicWriteFileSync(filePath, content, mapped.options);
}

function readEncoding(options: ReadOptions | string | undefined) {
  const encoding = typeof options === "string" ? options : options?.encoding;
  // Node checks the name; an unknown one is its ERR_INVALID_ARG_VALUE.
  return { encoding: (encoding ?? null) as "utf8" | null };
}

/**
 * Reads a file, like `atomically`'s `readFile` but without its retries: a
 * string with an encoding, else a `Buffer`. An atomic writer never shows a
 * torn file, so a plain read is enough.
 *
 * @param filePath The file to read.
 * @param options An encoding name or {@linkcode ReadOptions}.
 * @returns The content.
 *
 * @example
 * ```ts
 * import { readFile, writeFile } from "@atomic-write/atomic-write/compat/atomically";
 * const path = await Deno.makeTempFile();
 * await writeFile(path, "read me");
 * console.assert((await readFile(path, "utf8")) === "read me");
 * ```
 */
export function readFile(
  filePath: string | URL,
  options?: ReadOptions | string,
): Promise<Buffer | string> {
  return new Promise((resolve, reject) =>
    nodeReadFile(
      filePath,
      readEncoding(options),
      (error: Error | null, data: Buffer | string) =>
        error ? reject(error) : resolve(data),
    )
  );
}

/**
 * The synchronous {@linkcode readFile}.
 *
 * @param filePath The file to read.
 * @param options An encoding name or {@linkcode ReadOptions}.
 * @returns The content.
 *
 * @example
 * ```ts
 * import { readFileSync, writeFileSync } from "@atomic-write/atomic-write/compat/atomically";
 * const path = Deno.makeTempFileSync();
 * writeFileSync(path, "read me");
 * console.assert(readFileSync(path, "utf8") === "read me");
 * ```
 */
export function readFileSync(
  filePath: string | URL,
  options?: ReadOptions | string,
): Buffer | string {
  return nodeReadFileSync(filePath, readEncoding(options));
}
