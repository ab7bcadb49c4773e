/**
 * The contract between the one protocol (`_protocol.ts`) and the small
 * per-runtime backends. A backend supplies primitives and declares what it
 * can do; it never sequences them.
 */

import type { Locking } from "./_lock_wait.ts";

/** What the protocol needs to know about an existing file system entry. */
export interface EntryInfo {
  isFile: boolean;
  isDirectory: boolean;
  isSymlink: boolean;
  /**
   * For anything else (FIFO, socket, device): what it is, for messages.
   * Undefined for files, directories and links.
   */
  special?: string;
  /** Permission bits (`& 0o7777`), or `undefined` where the platform has none. */
  mode: number | undefined;
  uid: number | undefined;
  gid: number | undefined;
  /** Last modification, in milliseconds since the epoch. */
  mtimeMs: number;
  /** Size in bytes, where the backend reports it. */
  size?: number;
  /**
   * Device and inode (`"dev:ino"`) where the platform has them: one file
   * has one identity, whatever the name used to reach it.
   */
  identity?: string;
}

/** Owner and permission bits of an open file (`undefined` where none). */
export interface HandleInfo {
  mode: number | undefined;
  uid: number | undefined;
  gid: number | undefined;
}

/** Options of `createTemp`. */
export interface CreateTempOptions {
  /**
   * Permission bits to create the file with. The umask filters them, also
   * when the file starts as a copy (which must not keep the source's bits).
   */
  mode: number;
  /** When set, the temp file starts as a copy of this file (append). */
  copyFrom?: string;
  /** The file this temp file will replace; informational (locks, checks). */
  target: string;
}

/**
 * The primitives, synchronous form. `H` is the backend's open-file handle.
 * Every method throws the runtime's own error; the protocol maps it.
 */
export interface Primitives<H = unknown> {
  /** Canonical path with every symlink resolved; throws ENOENT if missing. */
  realPath(path: string): string;
  /** Info about the entry itself (no link following), undefined if missing. */
  lstat(path: string): EntryInfo | undefined;
  /** Info about the entry (links followed), undefined if missing. */
  stat(path: string): EntryInfo | undefined;
  readLink(path: string): string;
  /** Creates one directory; an existing one is not an error. */
  makeDirectory(path: string): void;
  /**
   * Creates the file exclusively (fails with EEXIST if anything, even a
   * dangling link, is there) and opens it for writing at its end.
   */
  createTemp(path: string, options: CreateTempOptions): H;
  /** Writes bytes at the handle's position; returns how many were written. */
  write(handle: H, bytes: Uint8Array): number;
  chmod(handle: H, mode: number): void;
  chown(handle: H, uid: number, gid: number): void;
  /**
   * Owner and permission bits of the open file, to decide whether a chown or
   * chmod is needed at all (the umask or a setgid directory may have set
   * them differently).
   */
  statHandle(handle: H): HandleInfo;
  sync(handle: H): void;
  close(handle: H): void;
  /**
   * Renames `from` over `to`. `replacedSize`: the size of what `to` was when
   * the protocol looked (0 for nothing or a link), undefined when unknown; a
   * backend that treats large replaced files differently need not look
   * again (a stale size changes only where the file is freed, not what the
   * rename does).
   */
  rename(from: string, to: string, replacedSize?: number): void;
  /**
   * Makes `to` a name of the file `from` without ever replacing an existing
   * `to` (EEXIST instead), atomically against other creators: a hard link on
   * file systems, a check and move under the Web Lock in OPFS (where `from`
   * is then gone). Absent where impossible: `createNew` is then refused.
   */
  link?(from: string, to: string): void;
  syncDirectory(path: string): void;
  remove(path: string): void;
  /** Names of the entries of a directory. */
  readDirectory(path: string): string[];
  /**
   * Whether the writer that created the temp file `path` still runs: true
   * (keep the file), false (it is gone: the file is garbage), undefined (no
   * way to tell; `cleanupTemps` then goes by age). Absent: never tells.
   */
  writerAlive?(path: string): boolean | undefined;
  /**
   * Opens the existing file `target` for a whole replacement where the
   * platform writes such a replacement aside and swaps it in whole when the
   * handle is closed (OPFS's `createWritable()`): then `close` is the commit
   * and `abortReplacement` drops it, and no temp file or rename is needed.
   * `size` is the number of bytes to come, when known. Returns `undefined`
   * to decline (the target is gone, or a temp file is faster for this
   * size): the protocol then writes a temp file. Only where the backend
   * declares `replacesOnClose`.
   */
  openReplacement?(target: string, size: number | undefined): H | undefined;
  /** Drops what was written through `openReplacement`; the target is kept. */
  abortReplacement?(handle: H): void;
  /**
   * Whether `path` is a mount point (a bind-mounted file), which a rename
   * cannot replace. Absent where there are no mount points (OPFS).
   */
  isMountPoint?(path: string): boolean;
  /**
   * Replaces the content of the existing file `to` IN PLACE with that of
   * `from` (the same inode, so its owner and bits stay): opens `to` for
   * writing with truncation, never creating it, copies, and fsyncs `to` when
   * `sync`. Not atomic; only for a target that is a mount point.
   */
  copyInPlace?(from: string, to: string, sync: boolean): void;
}

/** The same primitives returning promises. */
export type AsyncPrimitives<H = unknown> = {
  [K in keyof Primitives<H>]: (
    ...args: Parameters<NonNullable<Primitives<H>[K]>>
  ) => Promise<ReturnType<NonNullable<Primitives<H>[K]>>>;
};

/** What a backend can and cannot do, so the protocol and tests adapt. */
export interface Capabilities {
  /** Directories can be fsynced (false on Windows). */
  syncDirectory: boolean;
  /** Permission bits exist (false on Windows and in the browser). */
  mode: boolean;
  /** Owners exist and can be changed. */
  chown: boolean;
  /** Symbolic links exist. */
  symlinks: boolean;
  /** A rename over a busy file may fail transiently (Windows): retry it. */
  retryBusyRename: boolean;
  /** Paths use `\` as well as `/` as separator (Windows). */
  backslashSeparator: boolean;
  /** Files can be fsynced (false in OPFS, which has no fsync). */
  fsync: boolean;
  /**
   * An existing file can be replaced through `openReplacement`, whose close
   * swaps the new content in whole (OPFS). Absent: always a temp file.
   */
  replacesOnClose?: boolean;
  /**
   * Names the writer in temp names, so that `cleanupTemps` can tell a live
   * writer's temp file from a dead one's (`_owner.ts`); absent or undefined:
   * the names carry no owner. A function, not data: the file system
   * backends read `/proc` only once a temp file is named.
   */
  tempOwner?: () => string | undefined;
}

/** Per-call settings only some backends understand (OPFS). */
export interface BackendSettings {
  root?: unknown;
  locks?: boolean;
}

/**
 * Writes a whole `Blob` into a fresh, empty temp file (opened without
 * append), if faster than a stream. Resolves `undefined`, having written
 * nothing, for a Blob it cannot write exactly: the protocol streams it.
 */
export type BlobWriter<H> = (
  handle: H,
  blob: Blob,
) => Promise<number | undefined>;

/** A backend: named primitives plus capabilities. */
export interface Backend<H = unknown> {
  readonly name: string;
  readonly capabilities: Capabilities;
  readonly async: AsyncPrimitives<H>;
  /** Absent where the platform has no synchronous file API (browser). */
  readonly sync?: Primitives<H>;
  /** Optional fast path for Blob inputs (Bun's `Bun.write` to an fd). */
  readonly writeBlob?: BlobWriter<H>;
  /** Throws a TypeError for a path the backend cannot hold. */
  readonly validatePath?: (path: string) => void;
  /** The same backend with per-call settings; absent if it takes none. */
  readonly withSettings?: (settings: BackendSettings) => Backend<H>;
  /**
   * How `updateFile` and `lockFile` take a target's lock: a lock file on file
   * systems, a Web Lock in OPFS. Absent: locked updates are refused.
   */
  readonly locking?: Locking;
}
