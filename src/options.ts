/**
 * Options and data types shared by every entry point.
 *
 * @module
 */

// AtomicFile is AsyncDisposable (for `await using`): this lib declares that
// type and Symbol.asyncDispose for consumers whose lib lacks them (es2022),
// and `preserve` keeps the reference in the emitted .d.ts.
/// <reference lib="esnext.disposable" preserve="true" />

/**
 * How much of a write must survive a power cut once its promise resolves.
 *
 * - `"full"`: the temp file is fsynced before the rename and the directory is
 *   fsynced after it. Once the call resolves, the new content survives a power
 *   cut or kernel crash. Before it resolves, a power cut leaves the old content
 *   or the new content, never a mix.
 * - `"file"`: the temp file is fsynced, the directory is not. A power cut never
 *   leaves a torn or empty file, but a write that already resolved may be
 *   rolled back to the previous version (the rename itself may not be on disk).
 * - `"none"`: no fsync at all. Still atomic against a process crash or
 *   `kill -9` (the page cache survives those), but after a power cut the target
 *   may hold the old content, the new content, or be empty (seen on xfs) or
 *   full of zero bytes (seen on ext4) once the rename reached the journal
 *   before the data.
 *
 * @example
 * ```ts
 * import { type Durability, writeFile } from "@atomic-write/atomic-write";
 * const durability: Durability = "file";
 * await writeFile(await Deno.makeTempFile(), "cache", { durability });
 * ```
 */
export type Durability = "full" | "file" | "none";

/**
 * What to do when the path names a symbolic link.
 *
 * - `"follow"`: write through to the link's final target and keep the link.
 *   A dangling link's target is created.
 * - `"replace"`: replace the link itself with a regular file.
 *
 * @example
 * ```ts
 * import { type SymlinkPolicy, writeFile } from "@atomic-write/atomic-write";
 * const symlinks: SymlinkPolicy = "follow";
 * await writeFile(await Deno.makeTempFile(), "x", { symlinks });
 * ```
 */
export type SymlinkPolicy = "follow" | "replace";

/**
 * Owner and group to give the written file.
 *
 * @example
 * ```ts
 * import type { Ownership } from "@atomic-write/atomic-write";
 * const owner: Ownership = { uid: 1000, gid: 1000 };
 * console.assert(owner.uid === 1000);
 * ```
 */
export interface Ownership {
  /** Numeric user id. */
  uid: number;
  /** Numeric group id. */
  gid: number;
}

/**
 * A chunk of an incremental or streamed write: bytes or UTF-8 text.
 *
 * @example
 * ```ts
 * import { type WriteChunk, writeFile } from "@atomic-write/atomic-write";
 * const chunks: WriteChunk[] = ["text, then ", new Uint8Array([98, 121, 116, 101, 115])];
 * await writeFile(await Deno.makeTempFile(), chunks);
 * ```
 */
export type WriteChunk = Uint8Array | string;

/**
 * Everything `writeFile` accepts.
 *
 * Strings are written as UTF-8. Every `ArrayBufferView` (all typed arrays and
 * `DataView`) is written byte-exact, honouring `byteOffset` and `byteLength`.
 * Streams and iterables may mix `Uint8Array` and string chunks.
 *
 * @example
 * ```ts
 * import { type WriteData, writeFile } from "@atomic-write/atomic-write";
 * const data: WriteData = new Blob(["from a Blob"]);
 * await writeFile(await Deno.makeTempFile(), data);
 * ```
 */
export type WriteData =
  | string
  | ArrayBuffer
  | ArrayBufferView
  | Blob
  | ReadableStream<WriteChunk>
  | Iterable<WriteChunk>
  | AsyncIterable<WriteChunk>;

/**
 * What the synchronous variants accept: byte-like data only, no streams.
 *
 * @example
 * ```ts
 * import { type SyncWriteData, writeFileSync } from "@atomic-write/atomic-write";
 * const data: SyncWriteData = new Float32Array([1.5, 2.5]);
 * writeFileSync(Deno.makeTempFileSync(), data);
 * ```
 */
export type SyncWriteData =
  | string
  | ArrayBuffer
  | ArrayBufferView
  | Iterable<WriteChunk>;

/**
 * Text accepted by `writeTextFile`.
 *
 * @example
 * ```ts
 * import { type TextData, writeTextFile } from "@atomic-write/atomic-write";
 * const text: TextData = ReadableStream.from(["a", "b"]);
 * await writeTextFile(await Deno.makeTempFile(), text);
 * ```
 */
export type TextData =
  | string
  | ReadableStream<string>
  | AsyncIterable<string>
  | Iterable<string>;

/**
 * A directory handle of the Origin Private File System (browser).
 *
 * @example
 * ```ts
 * import type { OpfsDirectoryHandle } from "@atomic-write/atomic-write";
 * const describe = (dir: OpfsDirectoryHandle) => `${dir.kind} ${dir.name}`;
 * console.assert(describe({ kind: "directory", name: "notes" }) === "directory notes");
 * ```
 */
export interface OpfsDirectoryHandle {
  /** Always `"directory"`. */
  readonly kind: "directory";
  /** The directory's name. */
  readonly name: string;
}

/**
 * Options of `openAtomic`: everything but the ones that need the data.
 *
 * @example
 * ```ts
 * import { type OpenOptions, openAtomic } from "@atomic-write/atomic-write";
 * const options: OpenOptions = { durability: "full", mode: 0o600 };
 * await using file = await openAtomic(await Deno.makeTempFile(), options);
 * await file.write("private");
 * await file.commit();
 * ```
 */
export interface OpenOptions {
  /**
   * How much of the write must survive a power cut once it resolves; see
   * {@linkcode Durability} for the precise guarantee of each level.
   *
   * @default {"full"}
   *
   * @example Skip the directory fsync for a cache file
   * ```ts
   * import { writeFile } from "@atomic-write/atomic-write";
   * const path = await Deno.makeTempFile();
   * await writeFile(path, "cached", { durability: "file" });
   * ```
   */
  durability?: Durability;

  /**
   * Permission bits of the written file, filtered by the process umask like
   * `open(2)` and `fs.writeFile` (so `0o666` gives `0o644` under the usual
   * umask `0o022`), also when the target exists. Setuid, setgid and sticky
   * bits pass (the umask holds none); the kernel may drop setgid for a group
   * the process is not in. Without `mode`, an existing target's bits are kept
   * exactly, special bits included. The temp file is created with the final
   * bits, so a more permissive copy never exists.
   *
   * @default {the existing target's permission bits, or 0o666 filtered by the umask for a new file}
   *
   * @example Write a private file
   * ```ts
   * import { writeTextFile } from "@atomic-write/atomic-write";
   * const path = await Deno.makeTempFile();
   * await writeTextFile(path, "secret", { mode: 0o600 });
   * ```
   */
  mode?: number;

  /**
   * Owner and group of the written file, or `false` to leave them to the
   * operating system (the writing process's user).
   *
   * By default the existing target's owner and group are kept where the
   * process may set them (as root); for other users the attempt's `EPERM`
   * or `EINVAL` is ignored. An explicit `{ uid, gid }` that cannot be applied
   * is an error.
   *
   * @default {keep the existing owner and group where permitted}
   *
   * @example Leave ownership alone
   * ```ts
   * import { writeFile } from "@atomic-write/atomic-write";
   * const path = await Deno.makeTempFile();
   * await writeFile(path, "x", { chown: false });
   * ```
   */
  chown?: Ownership | false;

  /**
   * Append instead of replace: the new content is the existing content
   * followed by the data. The old content is copied into the temp file first
   * (with the fastest copy the runtime offers), so the append is atomic too.
   * A missing target counts as empty.
   *
   * @default {false}
   *
   * @example Append a log line atomically
   * ```ts
   * import { writeTextFile } from "@atomic-write/atomic-write";
   * const path = await Deno.makeTempFile();
   * await writeTextFile(path, "line 1\n");
   * await writeTextFile(path, "line 2\n", { append: true });
   * ```
   */
  append?: boolean;

  /**
   * As in `Deno.writeFile`: `false` requires the target to exist; a missing
   * one is an `AtomicWriteError` with step `"resolve"` and code `"ENOENT"`.
   *
   * @default {true}
   *
   * @example Only update a file that is already there
   * ```ts
   * import { writeFile } from "@atomic-write/atomic-write";
   * const path = await Deno.makeTempFile();
   * await writeFile(path, "updated", { create: false });
   * ```
   */
  create?: boolean;

  /**
   * As in `Deno.writeFile`: the target must not exist, not even as a
   * dangling symbolic link; an existing one is an `AtomicWriteError` with
   * step `"resolve"` and code `"EEXIST"`. The temp file is committed with a
   * hard link, which never replaces a file: if another process creates the
   * target meanwhile, the write fails with step `"rename"` and code
   * `"EEXIST"` and that file stays. In OPFS the check and the move happen
   * under the path's Web Lock. Cannot be combined with `create: false` or
   * `coalesce`.
   *
   * @default {false}
   *
   * @example Create a file only once
   * ```ts
   * import { writeFile } from "@atomic-write/atomic-write";
   * const path = `${await Deno.makeTempDir()}/first.lock`;
   * await writeFile(path, "mine", { createNew: true });
   * ```
   */
  createNew?: boolean;

  /**
   * Create missing parent directories (and, with `durability: "full"`, fsync
   * the directories that hold them). Without it, a missing parent directory is
   * an `AtomicWriteError` with step `"resolve"` and code `"ENOENT"`.
   *
   * @default {false}
   *
   * @example
   * ```ts
   * import { writeFile } from "@atomic-write/atomic-write";
   * const dir = await Deno.makeTempDir();
   * await writeFile(`${dir}/a/b/c.txt`, "deep", { createParents: true });
   * ```
   */
  createParents?: boolean;

  /**
   * What to do when the path is a symbolic link; see {@linkcode SymlinkPolicy}.
   *
   * @default {"follow"}
   *
   * @example Replace a link with a regular file
   * ```ts
   * import { writeFile } from "@atomic-write/atomic-write";
   * const dir = await Deno.makeTempDir();
   * await Deno.writeTextFile(`${dir}/real`, "old");
   * await Deno.symlink(`${dir}/real`, `${dir}/link`);
   * await writeFile(`${dir}/link`, "new", { symlinks: "replace" });
   * ```
   */
  symlinks?: SymlinkPolicy;

  /**
   * What to do when the target is itself a mount point (a bind-mounted file:
   * Docker `-v file:file`, Flatpak, Kubernetes ConfigMaps and secrets), which
   * no rename can replace (`EBUSY` on Linux, `EXDEV` elsewhere).
   *
   * - `"error"`: fail with an `AtomicWriteError` (step `"rename"`, the
   *   rename's code) whose message names this option; the target keeps its
   *   old content.
   * - `"copy"`: write the target IN PLACE: the new content, already complete
   *   and fsynced in the temp file, is copied into the target (opened with
   *   truncation), which is then fsynced, and the temp file removed. The
   *   target keeps its inode, owner and permission bits (`mode` and `chown`
   *   do not apply to it). This is NOT atomic: a crash or a failure during
   *   the copy leaves a torn target, and readers can see it half written.
   *   Only a rename that failed with `EBUSY`/`EXDEV` onto a target that is a
   *   mount point falls back to the copy; every other write stays atomic.
   *
   * Not available in OPFS, which has no mount points.
   *
   * @default {"error"}
   *
   * @example Save a config file that may be bind-mounted into a container
   * ```ts
   * import { writeFile } from "@atomic-write/atomic-write";
   * const path = await Deno.makeTempFile();
   * // An ordinary file is still replaced atomically.
   * await writeFile(path, "port = 8080\n", { mountedTarget: "copy" });
   * ```
   */
  mountedTarget?: "error" | "copy";

  /**
   * Retries of a rename or an unlink (of the temp file) that fails with
   * `EPERM`, `EACCES` or `EBUSY`, as it does on Windows while a virus
   * scanner, an indexer or a reader holds the file open. `attempts` counts
   * every try (1: no retry); between them the write waits 10 ms, doubling up
   * to 1 s per wait, and at most `totalTime` milliseconds in all (when set).
   * After the last attempt the write fails with that error (step `"rename"`),
   * the target keeping its old content. `false` is `{ attempts: 1 }`.
   *
   * @default {{ attempts: 8 } on Windows and in OPFS (waits of 10 to 640 ms,
   * 1.27 s in all); no retry elsewhere, where these errors are lasting
   * (permissions, a mount point)}
   *
   * @example Wait up to 5 seconds for a busy file
   * ```ts
   * import { writeFile } from "@atomic-write/atomic-write";
   * const path = await Deno.makeTempFile();
   * await writeFile(path, "x", { busyRetry: { attempts: 20, totalTime: 5000 } });
   * ```
   */
  busyRetry?: { attempts: number; totalTime?: number } | false;

  /**
   * Cancels the write. An abort before the rename rejects with the signal's
   * reason, keeps the old file and removes the temp file. An abort after the
   * rename has no effect: the write then completes.
   *
   * @default {undefined}
   *
   * @example Give up after one second
   * ```ts
   * import { writeFile } from "@atomic-write/atomic-write";
   * const path = await Deno.makeTempFile();
   * await writeFile(path, "x", { signal: AbortSignal.timeout(1000) });
   * ```
   */
  signal?: AbortSignal;

  /**
   * Text is always written as UTF-8. `"utf8"` and `"utf-8"` are accepted, as
   * `fs.writeFile` users pass them; any other encoding is a TypeError rather
   * than silently written as UTF-8.
   *
   * @default {"utf-8"}
   *
   * @example
   * ```ts
   * import { writeTextFile } from "@atomic-write/atomic-write";
   * await writeTextFile(await Deno.makeTempFile(), "é", { encoding: "utf8" });
   * ```
   */
  encoding?: "utf8" | "utf-8";

  /**
   * Browser (OPFS) only: the directory that `/`-separated paths resolve
   * against. Any other backend rejects it with a TypeError.
   *
   * @default {the OPFS root, navigator.storage.getDirectory()}
   *
   * @example Write inside a directory handle
   * ```ts
   * import { writeFile } from "@atomic-write/atomic-write";
   * if ("document" in globalThis) {
   *   const root = await navigator.storage.getDirectory();
   *   const notes = await root.getDirectoryHandle("notes", { create: true });
   *   await writeFile("today.md", "# Today", { root: notes });
   * }
   * ```
   */
  root?: OpfsDirectoryHandle;

  /**
   * Browser (OPFS) only: serialise writers of one path across tabs and
   * workers with the Web Locks API. Any other backend rejects `false`.
   *
   * @default {true}
   *
   * @example
   * ```ts
   * import { writeFile } from "@atomic-write/atomic-write";
   * if ("document" in globalThis) {
   *   await writeFile("draft.txt", "x", { locks: false });
   * }
   * ```
   */
  locks?: boolean;
}

/**
 * Options of `writeFile` and `writeTextFile`.
 *
 * @example
 * ```ts
 * import { type WriteOptions, writeFile } from "@atomic-write/atomic-write";
 * const options: WriteOptions = { coalesce: true };
 * await writeFile(await Deno.makeTempFile(), "state", options);
 * ```
 */
export interface WriteOptions extends OpenOptions {
  /**
   * Coalesce bursts: coalescing writes to the same file that have not
   * started yet are merged, and only the newest data is written (a burst of
   * 10,000 calls makes one or two writes). Only calls with the same options
   * and the same `signal` are merged; the others are queued in call order.
   * Every caller's promise settles once content at least as new as its own is
   * committed; a failed write rejects exactly the callers whose data it
   * carried. Cannot be combined with `append` (appended data must not be
   * dropped), nor with `createNew`.
   *
   * @default {false}
   *
   * @example Save state on every change without queueing every version
   * ```ts
   * import { writeFile } from "@atomic-write/atomic-write";
   * const path = await Deno.makeTempFile();
   * await Promise.all(
   *   [1, 2, 3].map((n) => writeFile(path, `${n}`, { coalesce: true })),
   * );
   * ```
   */
  coalesce?: boolean;
}

/**
 * Options of `updateFile` and `updateTextFile`: those of the write (without
 * `coalesce`, since an update must not be dropped) plus the lock's wait.
 *
 * @example
 * ```ts
 * import { type UpdateOptions, updateTextFile } from "@atomic-write/atomic-write";
 * const options: UpdateOptions = { lockTimeout: 5_000 };
 * await updateTextFile(await Deno.makeTempFile(), (old) => `${old}!`, options);
 * ```
 */
export interface UpdateOptions extends OpenOptions {
  /**
   * How long to wait for the lock, in milliseconds. When it expires the call
   * rejects with an `AtomicWriteError` of step `"lock"` and code
   * `"ETIMEDOUT"`, and the file is untouched.
   *
   * @default {Infinity}
   */
  lockTimeout?: number;
}

/**
 * Options of `lockFile`.
 *
 * @example
 * ```ts
 * import { type LockOptions, lockFile } from "@atomic-write/atomic-write";
 * const options: LockOptions = { timeout: 1_000 };
 * await using _lock = await lockFile(await Deno.makeTempFile(), options);
 * ```
 */
export interface LockOptions {
  /**
   * Stops waiting for the lock: the call rejects with the signal's reason.
   * Once the lock is held the signal has no effect.
   */
  signal?: AbortSignal;
  /**
   * How long to wait, in milliseconds; then an `AtomicWriteError` of step
   * `"lock"` and code `"ETIMEDOUT"`.
   *
   * @default {Infinity}
   */
  timeout?: number;
}

/**
 * The lock of one file, held until `release()` or disposal. Other
 * `lockFile`, `updateFile` and `updateTextFile` calls for the file, in any
 * process, runtime or (OPFS) tab, wait meanwhile; plain writes do not.
 */
export interface FileLock extends AsyncDisposable {
  /** The path given to `lockFile`. */
  readonly path: string;
  /** Releases the lock (removes the lock file); later calls do nothing. */
  release(): Promise<void>;
  /** Releases the lock. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Options of the synchronous variants: no `signal`, no `coalesce`.
 *
 * @example
 * ```ts
 * import { type SyncWriteOptions, writeFileSync } from "@atomic-write/atomic-write";
 * const options: SyncWriteOptions = { append: true };
 * writeFileSync(Deno.makeTempFileSync(), "line\n", options);
 * ```
 */
export type SyncWriteOptions = Omit<OpenOptions, "signal">;

/**
 * Options of `cleanupTemps`.
 *
 * @example
 * ```ts
 * import { type CleanupOptions, cleanupTemps } from "@atomic-write/atomic-write";
 * const options: CleanupOptions = { olderThan: 60_000 };
 * await cleanupTemps(await Deno.makeTempDir(), options);
 * ```
 */
export interface CleanupOptions {
  /**
   * Only remove temp files whose last modification is at least this many
   * milliseconds old, so that writes in progress keep their temp files.
   * Use `0` at start-up when no other writer can be running.
   *
   * @default {600000}
   *
   * @example
   * ```ts
   * import { cleanupTemps } from "@atomic-write/atomic-write";
   * const dir = await Deno.makeTempDir();
   * const removed = await cleanupTemps(dir, { olderThan: 0 });
   * ```
   */
  olderThan?: number;

  /**
   * Retries of an unlink that fails with `EPERM`, `EACCES` or `EBUSY`; as
   * the write option of the same name.
   *
   * @default {{ attempts: 8 } on Windows and in OPFS; no retry elsewhere}
   *
   * @example
   * ```ts
   * import { cleanupTemps } from "@atomic-write/atomic-write";
   * const dir = await Deno.makeTempDir();
   * await cleanupTemps(dir, { busyRetry: { attempts: 5, totalTime: 1000 } });
   * ```
   */
  busyRetry?: { attempts: number; totalTime?: number } | false;

  /**
   * Browser (OPFS) only: the directory handle that `directory` resolves
   * against.
   *
   * @default {the OPFS root}
   *
   * @example
   * ```ts
   * import { cleanupTemps } from "@atomic-write/atomic-write";
   * if ("document" in globalThis) {
   *   const root = await navigator.storage.getDirectory();
   *   await cleanupTemps("/", { root, olderThan: 0 });
   * }
   * ```
   */
  root?: OpfsDirectoryHandle;

  /**
   * Stops the sweep: it rejects with the signal's reason; temp files already
   * removed stay removed.
   *
   * @default {undefined}
   *
   * @example
   * ```ts
   * import { cleanupTemps } from "@atomic-write/atomic-write";
   * const dir = await Deno.makeTempDir();
   * await cleanupTemps(dir, { signal: AbortSignal.timeout(5000) });
   * ```
   */
  signal?: AbortSignal;
}

/**
 * A pending atomic write, from `openAtomic`. Bytes written to it go to a
 * temp file; the target keeps its old content, and stays readable, until
 * `commit()`.
 *
 * @example
 * ```ts
 * import { type AtomicFile, openAtomic } from "@atomic-write/atomic-write";
 * const file: AtomicFile = await openAtomic(await Deno.makeTempFile());
 * await ReadableStream.from(["streamed"]).pipeTo(file.writable); // commits
 * ```
 */
export interface AtomicFile extends AsyncDisposable {
  /** The path of the target, as given to `openAtomic`. */
  readonly path: string;
  /**
   * A stream into the pending file. Closing it commits; aborting it
   * discards.
   */
  readonly writable: WritableStream<WriteChunk>;
  /** Appends a chunk (bytes or UTF-8 text) to the pending content. */
  write(chunk: WriteChunk | ArrayBufferView | ArrayBuffer): Promise<void>;
  /** Makes the pending content the target's content, atomically. */
  commit(): Promise<void>;
  /** Drops the pending content and removes the temp file. */
  discard(): Promise<void>;
  /** Discards unless `commit()` succeeded. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * The functions of this library, as bound to one backend; `mod.ts` and the
 * subpath exports each export one such set. See `mod.ts` for their docs.
 *
 * @example
 * ```ts
 * import type { AtomicWriteApi } from "@atomic-write/atomic-write";
 * import * as bound from "@atomic-write/atomic-write/deno";
 * const api: AtomicWriteApi = { ...bound };
 * await api.writeFile(await Deno.makeTempFile(), "via the Deno backend");
 * ```
 */
export interface AtomicWriteApi {
  /** Atomically replaces a file with data of any supported type. */
  writeFile(
    path: string | URL,
    data: WriteData,
    options?: WriteOptions,
  ): Promise<void>;
  /** Atomically replaces a file with UTF-8 text. */
  writeTextFile(
    path: string | URL,
    text: TextData,
    options?: WriteOptions,
  ): Promise<void>;
  /** Synchronous `writeFile`, for byte-like data. */
  writeFileSync(
    path: string | URL,
    data: SyncWriteData,
    options?: SyncWriteOptions,
  ): void;
  /** Synchronous `writeTextFile`. */
  writeTextFileSync(
    path: string | URL,
    text: string | Iterable<string>,
    options?: SyncWriteOptions,
  ): void;
  /** Opens a pending file that replaces the target on `commit()`. */
  openAtomic(path: string | URL, options?: OpenOptions): Promise<AtomicFile>;
  /** Replaces a file with what `fn` makes of its content, under its lock. */
  updateFile(
    path: string | URL,
    fn: (current: Uint8Array | undefined) => WriteData | Promise<WriteData>,
    options?: UpdateOptions,
  ): Promise<void>;
  /** `updateFile` for UTF-8 text. */
  updateTextFile(
    path: string | URL,
    fn: (current: string | undefined) => string | Promise<string>,
    options?: UpdateOptions,
  ): Promise<void>;
  /** Takes a file's lock, as `updateFile` does, until released. */
  lockFile(path: string | URL, options?: LockOptions): Promise<FileLock>;
  /** Removes stale temp files left by a crash; returns their paths. */
  cleanupTemps(
    directory: string | URL,
    options?: CleanupOptions,
  ): Promise<string[]>;
}
