/**
 * THE atomic-write protocol, written once.
 *
 * Each step is a generator that yields operations (`Op`) instead of calling a
 * backend, so the same sequence runs synchronously (`writeFileSync`),
 * asynchronously (`writeFile`) and under a recording backend that enumerates
 * crash states. `_driver.ts` executes the operations against a backend.
 */

import type { Capabilities, EntryInfo, Primitives } from "./_backend.ts";
import { ChunkEncoder, type DataSource, toDataSource } from "./_data.ts";
import { AtomicWriteError, type AtomicWriteStep } from "./errors.ts";
import type { Durability, Ownership, SymlinkPolicy } from "./options.ts";
import {
  isAbsolute,
  joinPath,
  splitPath,
  TEMP_NAME_PATTERN,
  tempName,
  trimSeparators,
} from "./_path.ts";

/** One operation requested by the protocol from its driver. */
export type Op =
  | {
    kind: "call";
    step: AtomicWriteStep;
    name: keyof Primitives;
    args: unknown[];
    /** Cheap enough to make synchronously on the asynchronous path. */
    quick: boolean;
  }
  /** Read the next input chunk (step "data"). */
  | { kind: "next"; iterator: Iterator<unknown> | AsyncIterator<unknown> }
  /** Write a whole Blob (step "write"). */
  | { kind: "blob"; handle: unknown; blob: Blob }
  /** The last moment to abort: the rename comes next. */
  | { kind: "commit-point" }
  | { kind: "sleep"; milliseconds: number };

/** A protocol step: yields operations, returns `T`. */
export type Steps<T> = Generator<Op, T, unknown>;

/** Writes up to this size are made synchronously (see `isQuick`). */
export const SMALL_WRITE = 64 * 1024;

/**
 * Calls that take a few microseconds on a local disk, less than the 20-50 us
 * a thread-pool round trip costs in Deno, Bun and Node (measured). The
 * asynchronous path makes them with the synchronous primitives where the
 * backend has them, as `Bun.write` does for small writes. fsync, large
 * writes, copies, unlinks and listings still go to the thread pool, and so
 * do the create and the rename while writes run in several directories (see
 * `_driver.ts`).
 */
const QUICK_CALLS = new Set<keyof Primitives>([
  "realPath",
  "lstat",
  "stat",
  "readLink",
  "makeDirectory",
  "statHandle",
  "chmod",
  "chown",
  "rename",
  "link",
]);

function isQuick(name: keyof Primitives, args: unknown[]): boolean {
  switch (name) {
    case "createTemp":
      // An empty file is metadata; starting it as a copy moves data.
      return (args[1] as { copyFrom?: string }).copyFrom === undefined;
    case "write":
      return (args[1] as Uint8Array).length <= SMALL_WRITE;
    default:
      return QUICK_CALLS.has(name);
  }
}

function* call<K extends keyof Primitives>(
  step: AtomicWriteStep,
  name: K,
  ...args: Parameters<NonNullable<Primitives[K]>>
): Steps<ReturnType<NonNullable<Primitives[K]>>> {
  const quick = isQuick(name, args);
  return (yield { kind: "call", step, name, args, quick }) as ReturnType<
    NonNullable<Primitives[K]>
  >;
}

/**
 * Closes the temp file. Quick once nothing is left to flush (after an fsync,
 * or for a small file), since a close can flush on network file systems.
 */
function* closeTemp(pending: PendingTemp, synced: boolean): Steps<void> {
  const quick = synced || pending.size <= SMALL_WRITE;
  const args = [pending.handle];
  yield { kind: "call", step: "close", name: "close", args, quick };
}

/** Calls a primitive and gives its error back instead of throwing it. */
function* attempt<K extends keyof Primitives>(
  step: AtomicWriteStep,
  name: K,
  ...args: Parameters<NonNullable<Primitives[K]>>
): Steps<
  { value?: ReturnType<NonNullable<Primitives[K]>>; error?: AtomicWriteError }
> {
  try {
    return { value: yield* call(step, name, ...args) };
  } catch (error) {
    if (error instanceof AtomicWriteError) return { error };
    throw error;
  }
}

/** Where a write goes, after links and parent directories are resolved. */
export interface ResolvedTarget {
  /** The path as the caller gave it (used in error messages). */
  path: string;
  /** The file that is replaced: canonical directory + name. */
  target: string;
  /** The canonical directory that holds the target (and the temp file). */
  directory: string;
  /** The target's name inside `directory`. */
  name: string;
}

/** The options the protocol itself reads. */
export interface ProtocolOptions {
  durability: Durability;
  mode: number | undefined;
  chown: Ownership | false | undefined;
  append: boolean;
  createParents: boolean;
  symlinks: SymlinkPolicy;
  /** False: the target must exist (Deno's `create: false`). */
  create: boolean;
  /** The target must not exist, and is never replaced (Deno's `createNew`). */
  createNew: boolean;
  /** Retries of renames and unlinks that fail with EPERM, EACCES or EBUSY. */
  busyRetry: RetryPolicy;
  /** A target that is a mount point: fail, or copy the data in place. */
  mountedTarget: "error" | "copy";
}

/**
 * How often a rename or unlink that failed with EPERM, EACCES or EBUSY is
 * tried in all, and for how long: waits of 10 ms, doubling up to 1 s each,
 * in all at most `totalTime` milliseconds (when set).
 */
export interface RetryPolicy {
  attempts: number;
  totalTime: number | undefined;
}

/** One attempt: on Linux these errors are real (permissions, mount points). */
export const NO_RETRY: RetryPolicy = { attempts: 1, totalTime: undefined };

/**
 * Where busy failures are transient (`retryBusyRename`: Windows, whose
 * readers, indexers and virus scanners hold files open for a moment; OPFS):
 * 8 attempts with 10, 20 ... 640 ms between them, 1.27 s in all.
 */
export const TRANSIENT_BUSY_RETRY: RetryPolicy = {
  attempts: 8,
  totalTime: undefined,
};

const MAX_SYMLINK_HOPS = 40;

function fail(
  path: string,
  step: AtomicWriteStep,
  code: string,
  detail: string,
): never {
  throw new AtomicWriteError(
    path,
    step,
    Object.assign(new Error(detail), { code }),
    detail,
  );
}

/**
 * Step 1: resolve the target. With `symlinks: "follow"` links are followed to
 * their final target (a dangling link's target is what gets created); with
 * `"replace"` the link itself is the target. The directory is canonical, so
 * two names for one file resolve to the same target.
 */
export function* resolveTarget(
  path: string,
  options: ProtocolOptions,
  capabilities: Capabilities,
): Steps<ResolvedTarget> {
  const backslash = capabilities.backslashSeparator;
  const trimmed = trimSeparators(path, backslash);
  if (trimmed !== path && splitPath(trimmed, backslash).name !== "") {
    // Like open(2): "x/" names a directory. An existing non-directory is
    // ENOTDIR; anything else EISDIR (as O_CREAT gives on Linux).
    const info = yield* call("resolve", "stat", trimmed);
    if (info && !info.isDirectory) {
      fail(path, "resolve", "ENOTDIR", "a trailing slash names a directory");
    }
    fail(path, "resolve", "EISDIR", "the path names a directory");
  }
  if (options.createNew) {
    // Like O_EXCL: any entry, even a dangling link, counts as existing.
    if (yield* call("resolve", "lstat", path)) {
      fail(path, "resolve", "EEXIST", "the file exists and createNew is set");
    }
  }
  let linkPath = path;
  if (options.symlinks === "follow" && capabilities.symlinks) {
    const real = yield* attempt("resolve", "realPath", path);
    if (real.value !== undefined) {
      const { directory, name } = splitPath(real.value, backslash);
      return { path, target: real.value, directory, name };
    }
    if (real.error?.code !== "ENOENT") throw withPath(real.error!, path);
    // Missing, or a (chain of) dangling link(s): find the final name.
    for (let hops = 0;; hops++) {
      const info = yield* call("resolve", "lstat", linkPath);
      if (!info?.isSymlink) break;
      if (hops === MAX_SYMLINK_HOPS) {
        fail(path, "resolve", "ELOOP", "too many levels of symbolic links");
      }
      const link = yield* call("resolve", "readLink", linkPath);
      linkPath = isAbsolute(link, backslash)
        ? link
        : joinPath(splitPath(linkPath, backslash).directory, link);
    }
  }
  const { directory, name } = splitPath(linkPath, backslash);
  if (name === "" || name === "." || name === "..") {
    fail(path, "resolve", "EISDIR", "the path names a directory");
  }
  let realDirectory = yield* attempt("resolve", "realPath", directory);
  if (realDirectory.error?.code === "ENOENT" && options.createParents) {
    yield* createParents(path, directory, options.durability, backslash);
    realDirectory = yield* attempt("resolve", "realPath", directory);
  }
  if (realDirectory.error) throw withPath(realDirectory.error, path);
  const canonical = realDirectory.value!;
  return {
    path,
    target: joinPath(canonical, name),
    directory: canonical,
    name,
  };
}

function withPath(error: AtomicWriteError, path: string): AtomicWriteError {
  return error.path === path
    ? error
    : new AtomicWriteError(path, error.step, error.cause);
}

/** Creates the missing directories of `directory`, top-down. */
function* createParents(
  path: string,
  directory: string,
  durability: Durability,
  backslash: boolean,
): Steps<void> {
  const missing: string[] = [];
  let current = directory;
  while (true) {
    const info = yield* call("mkdir", "stat", current);
    if (info) {
      if (!info.isDirectory) {
        fail(path, "mkdir", "ENOTDIR", `"${current}" is not a directory`);
      }
      break;
    }
    missing.unshift(current);
    const parent = splitPath(current, backslash).directory;
    if (parent === current) break;
    current = parent;
  }
  for (const created of missing) {
    yield* call("mkdir", "makeDirectory", created);
  }
  if (durability === "full") {
    // Each new entry lives in its parent directory: persist those entries.
    for (const created of missing) {
      yield* call(
        "mkdir",
        "syncDirectory",
        splitPath(created, backslash).directory,
      );
    }
  }
}

/** An open temp file and what is needed to finish or discard it. */
export interface PendingTemp {
  resolved: ResolvedTarget;
  tempPath: string;
  handle: unknown;
  state: "open" | "closed" | "renamed" | "discarded";
  /** Bytes written so far, not counting copied old content. */
  size: number;
  /** The temp file started as a copy of the old content (append). */
  copied: boolean;
  /** Commit with `link` (never replacing), for `createNew`. */
  noReplace: boolean;
  /**
   * No temp file: the handle writes the target aside and its close swaps
   * the content in whole (`openReplacement`, OPFS); `tempPath` is empty.
   */
  replacing: boolean;
  /**
   * The size of what the rename replaces, as the stat saw it: 0 for nothing
   * or a link, undefined where unknown (see `rename`).
   */
  replacedSize: number | undefined;
  retry: RetryPolicy;
  mountedTarget: "error" | "copy";
}

const CREATE_ATTEMPTS = 4;

/**
 * Steps 2 and 5a: create the temp file exclusively beside the target with
 * its final permission bits and owner (before any data is in it), copying
 * the old content first when appending. Where the backend replaces a file
 * whole on close (`replacesOnClose`), a plain replace of an existing file
 * opens the target for replacement instead. `size`: the bytes to come,
 * when known.
 */
export function* createTemp(
  resolved: ResolvedTarget,
  options: ProtocolOptions,
  capabilities: Capabilities,
  size?: number,
): Steps<PendingTemp> {
  const { path, target } = resolved;
  const existing: EntryInfo | undefined = options.symlinks === "replace"
    ? yield* call("resolve", "lstat", target)
    : yield* call("resolve", "stat", target);
  if (existing?.isDirectory) {
    fail(path, "resolve", "EISDIR", `"${target}" is a directory`);
  }
  if (existing?.special) {
    // Replacing a FIFO, socket or device node with a regular file would
    // silently break whatever reads it.
    fail(
      path,
      "resolve",
      "EFTYPE",
      `"${target}" is a ${existing.special}, not a regular file`,
    );
  }
  if (!existing && !options.create) {
    fail(path, "resolve", "ENOENT", "the file does not exist (create: false)");
  }
  if (existing && options.createNew) {
    fail(path, "resolve", "EEXIST", "the file exists (createNew: true)");
  }
  const regular = existing?.isFile === true;
  // An explicit mode is created through open(2), whose umask filters it as
  // for fs.writeFile; without one, an existing file's bits are kept exactly.
  const kept = options.mode === undefined && regular && capabilities.mode
    ? existing.mode
    : undefined;
  const mode = options.mode ?? kept;
  const copyFrom = options.append && regular ? target : undefined;
  const pending: PendingTemp = {
    resolved,
    tempPath: "",
    handle: undefined,
    state: "open",
    size: 0,
    copied: copyFrom !== undefined,
    noReplace: options.createNew,
    replacing: false,
    replacedSize: !existing || existing.isSymlink
      ? 0
      : existing.isFile
      ? existing.size
      : undefined,
    retry: options.busyRetry,
    mountedTarget: options.mountedTarget,
  };
  if (
    capabilities.replacesOnClose && regular && !options.append &&
    !options.createNew && mode === undefined && !options.chown
  ) {
    pending.handle = yield* call("open", "openReplacement", target, size);
    if (pending.handle !== undefined) {
      pending.replacing = true;
      return pending;
    }
  }

  let handle: unknown;
  let tempPath = "";
  for (let attempt = 1;; attempt++) {
    tempPath = joinPath(
      resolved.directory,
      tempName(resolved.name, capabilities.tempOwner?.()),
    );
    try {
      handle = yield* call(copyFrom ? "copy" : "open", "createTemp", tempPath, {
        mode: mode ?? 0o666,
        copyFrom,
        target,
      });
      break;
    } catch (error) {
      // EEXIST here means an 80-bit collision or an attack: pick another name.
      const retry = error instanceof AtomicWriteError &&
        error.code === "EEXIST" && attempt < CREATE_ATTEMPTS;
      if (!retry) throw error;
    }
  }
  pending.tempPath = tempPath;
  pending.handle = handle;
  try {
    yield* applyOwnerAndMode(pending, kept, options, existing, capabilities);
  } catch (error) {
    yield* discardTemp(pending);
    throw error;
  }
  return pending;
}

/**
 * Gives the temp file its owner and permission bits: an explicit mode as the
 * create left it (filtered by the umask, like open(2)), or an existing
 * target's bits exactly. One fstat tells whether anything differs from what
 * the create gave it (the usual case: nothing), so a plain replace costs no
 * chown and no chmod.
 */
function* applyOwnerAndMode(
  pending: PendingTemp,
  keptMode: number | undefined,
  options: ProtocolOptions,
  existing: EntryInfo | undefined,
  capabilities: Capabilities,
): Steps<void> {
  const { handle } = pending;
  const explicitMode = options.mode !== undefined && capabilities.mode;
  const explicitOwner = options.chown && capabilities.chown
    ? options.chown
    : undefined;
  const keepsOwner = options.chown === undefined && capabilities.chown &&
    existing?.uid !== undefined && existing.gid !== undefined;
  if (
    !explicitMode && keptMode === undefined && !keepsOwner && !explicitOwner
  ) {
    return;
  }
  const created = yield* call(
    keepsOwner || explicitOwner ? "chown" : "chmod",
    "statHandle",
    handle,
  );
  // The umask holds permission bits only: special bits pass as given (open(2)
  // drops the sticky bit of a regular file, so they are applied by chmod).
  const wanted = explicitMode && created.mode !== undefined
    ? (created.mode & 0o777) | (options.mode! & 0o7000)
    : keptMode;
  let ownerChanged = false;
  if (explicitOwner) {
    // An explicit request that cannot be honoured is an error.
    yield* call("chown", "chown", handle, explicitOwner.uid, explicitOwner.gid);
    ownerChanged = true;
  } else if (
    keepsOwner &&
    (created.uid !== existing!.uid || created.gid !== existing!.gid)
  ) {
    const result = yield* attempt(
      "chown",
      "chown",
      handle,
      existing!.uid!,
      existing!.gid!,
    );
    // Only root (or CAP_CHOWN) may give files away: for others keeping the
    // owner is best effort, as documented.
    const code = result.error?.code;
    if (result.error && code !== "EPERM" && code !== "EINVAL") {
      throw result.error;
    }
    ownerChanged = !result.error;
  }
  // A chown clears setuid/setgid, so after one the bits are applied again.
  if (wanted !== undefined && (ownerChanged || created.mode !== wanted)) {
    yield* call("chmod", "chmod", handle, wanted);
  }
}

/** Step 3: write every byte of one chunk, looping on short writes. */
export function* writeBytes(
  pending: PendingTemp,
  bytes: Uint8Array,
): Steps<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const written = yield* call(
      "write",
      "write",
      pending.handle,
      offset === 0 ? bytes : bytes.subarray(offset),
    );
    if (!(written > 0)) {
      fail(pending.resolved.path, "write", "EIO", "the write made no progress");
    }
    offset += written;
    pending.size += written;
  }
}

/** Step 3 for any input: pulls chunks and writes them all. */
export function* writeSource(
  pending: PendingTemp,
  source: DataSource,
): Steps<void> {
  switch (source.kind) {
    case "bytes":
      // Bytes are read now, not copied at the call: a buffer transferred
      // (detached) or shrunk since would silently write less.
      if (source.bytes.byteLength !== source.byteLength) {
        fail(
          pending.resolved.path,
          "data",
          "EINVAL",
          `the data's buffer was detached or resized after the call (${source.byteLength} bytes expected, ${source.bytes.byteLength} left)`,
        );
      }
      return yield* writeBytes(pending, source.bytes);
    case "blob": {
      // A backend writes a Blob whole only into a fresh, empty temp file:
      // Bun's fast path preallocates and truncates from offset 0, and its
      // copy of a file fails on an appending descriptor. Into a copy of the
      // old content, or when the backend declines the Blob, it is streamed.
      const fresh = !pending.copied && pending.size === 0;
      const written = fresh
        ? (yield {
          kind: "blob",
          handle: pending.handle,
          blob: source.blob,
        }) as number | undefined
        : undefined;
      if (written === undefined) {
        return yield* writeBlobStream(pending, source.blob);
      }
      if (written !== source.blob.size) {
        fail(
          pending.resolved.path,
          "write",
          "EIO",
          `wrote ${written} of ${source.blob.size} bytes of a Blob`,
        );
      }
      pending.size += written;
      return;
    }
    default: {
      const encoder = new ChunkEncoder();
      while (true) {
        const result = (yield {
          kind: "next",
          iterator: source.iterator,
        }) as IteratorResult<unknown>;
        if (result.done) break;
        yield* writeBytes(pending, encoder.encode(result.value));
      }
      yield* writeBytes(pending, encoder.flush());
    }
  }
}

/** Streams a Blob into the temp file; the stream is cancelled on failure. */
function* writeBlobStream(pending: PendingTemp, blob: Blob): Steps<void> {
  const source = toDataSource(blob.stream());
  try {
    yield* writeSource(pending, source);
  } catch (error) {
    if (source.kind === "async-iterator") source.cancel(error);
    throw error;
  }
}

const BUSY_CODES = new Set(["EPERM", "EACCES", "EBUSY"]);
/** What a rename onto a mount point gives: EBUSY on Linux, EXDEV elsewhere. */
const MOUNT_POINT_CODES = new Set(["EBUSY", "EXDEV"]);
const FIRST_RETRY_DELAY = 10;
const MAX_RETRY_DELAY = 1000;

/** Runs `action`, trying it again on EPERM, EACCES or EBUSY as `policy` says. */
function* retryBusy<T>(policy: RetryPolicy, action: () => Steps<T>): Steps<T> {
  let waited = 0;
  for (let attempt = 1;; attempt++) {
    try {
      return yield* action();
    } catch (error) {
      const busy = error instanceof AtomicWriteError &&
        BUSY_CODES.has(error.code ?? "");
      const left = (policy.totalTime ?? Infinity) - waited;
      if (!busy || attempt >= policy.attempts || left <= 0) throw error;
      const delay = Math.min(
        FIRST_RETRY_DELAY * 2 ** (attempt - 1),
        MAX_RETRY_DELAY,
        left,
      );
      waited += delay;
      yield { kind: "sleep", milliseconds: delay };
    }
  }
}

/** Removes a file, retrying busy failures; gives the error back. */
function* removeWithRetry(
  path: string,
  policy: RetryPolicy,
): Steps<{ error?: AtomicWriteError }> {
  try {
    yield* retryBusy(policy, () => call("cleanup", "remove", path));
    return {};
  } catch (error) {
    if (error instanceof AtomicWriteError) return { error };
    throw error;
  }
}

/**
 * Steps 4 to 6: fsync, close, rename over the target, fsync the directory.
 * The temp name is never unlinked after the rename succeeded.
 */
export function* commitTemp(
  pending: PendingTemp,
  durability: Durability,
  capabilities: Capabilities,
): Steps<void> {
  if (pending.replacing) return yield* commitReplacement(pending, durability);
  try {
    if (durability !== "none") yield* call("sync", "sync", pending.handle);
    pending.state = "closed";
    yield* closeTemp(pending, durability !== "none");
    yield { kind: "commit-point" };
    if (pending.noReplace) {
      yield* call("rename", "link", pending.tempPath, pending.resolved.target);
    } else {
      const mountPoint = yield* renameWithRetry(pending);
      if (mountPoint) {
        yield* copyIntoMountPoint(pending, durability, mountPoint);
        // No directory entry changed: there is no directory to fsync.
        return;
      }
    }
    pending.state = "renamed";
  } catch (error) {
    yield* discardTemp(pending);
    throw error;
  }
  if (pending.noReplace) {
    // The target now holds the data under its own name; the temp name is a
    // second link to it (gone already in OPFS). A failure to remove it
    // leaves only a name that cleanupTemps removes: the write itself is done.
    yield* removeWithRetry(pending.tempPath, pending.retry);
  }
  if (durability === "full" && capabilities.syncDirectory) {
    yield* call("sync-directory", "syncDirectory", pending.resolved.directory);
  }
}

/**
 * Commits a replacement opened with `openReplacement`: its close swaps the
 * new content in whole, so the commit point comes before the close. No
 * directory entry changes: there is no directory to fsync.
 */
function* commitReplacement(
  pending: PendingTemp,
  durability: Durability,
): Steps<void> {
  try {
    if (durability !== "none") yield* call("sync", "sync", pending.handle);
    yield { kind: "commit-point" };
    pending.state = "closed";
    yield* closeTemp(pending, durability !== "none");
  } catch (error) {
    yield* discardTemp(pending);
    throw error;
  }
  pending.state = "renamed";
}

/**
 * Renames the temp file over the target, retrying busy failures (Windows:
 * a reader, indexer or virus scanner holding the target open makes the
 * rename fail for a moment). A target that is a mount point (a bind-mounted
 * file) is never retried, since no retry can help: its error is returned.
 */
function* renameWithRetry(
  pending: PendingTemp,
): Steps<AtomicWriteError | undefined> {
  const { tempPath, resolved } = pending;
  return yield* retryBusy(pending.retry, function* () {
    const renamed = yield* attempt(
      "rename",
      "rename",
      tempPath,
      resolved.target,
      pending.replacedSize,
    );
    if (!renamed.error) return undefined;
    if (MOUNT_POINT_CODES.has(renamed.error.code ?? "")) {
      // A backend without the check fails the call: not a mount point.
      const check = yield* attempt("rename", "isMountPoint", resolved.target);
      if (check.value === true) return renamed.error;
    }
    throw renamed.error;
  });
}

/**
 * A target that is a mount point: an error that names the remedy, or with
 * `mountedTarget: "copy"` the fsynced temp file's bytes copied into the
 * target in place (its inode, owner and bits stay) and fsynced. Not atomic:
 * a crash during the copy leaves a torn target.
 */
function* copyIntoMountPoint(
  pending: PendingTemp,
  durability: Durability,
  renameError: AtomicWriteError,
): Steps<void> {
  const { path, target } = pending.resolved;
  if (pending.mountedTarget !== "copy") {
    throw new AtomicWriteError(
      path,
      "rename",
      renameError.cause,
      `"${target}" is a mount point (a bind-mounted file), which a rename cannot replace: pass the option mountedTarget: "copy" to write it in place, without atomicity`,
    );
  }
  const copied = yield* attempt(
    "rename",
    "copyInPlace",
    pending.tempPath,
    target,
    durability !== "none",
  );
  if (copied.error) {
    const cause = copied.error.cause;
    throw new AtomicWriteError(
      path,
      "rename",
      cause,
      `copying into the mount point "${target}" in place failed, so it may hold part of the new content: ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
    );
  }
  yield* discardTemp(pending);
}

/** Step 7: closes and removes the temp file. Never throws. */
export function* discardTemp(pending: PendingTemp): Steps<void> {
  if (pending.state === "renamed" || pending.state === "discarded") return;
  if (pending.replacing) {
    // A failed close committed nothing: only an open replacement is dropped.
    if (pending.state === "open") {
      yield* attempt("cleanup", "abortReplacement", pending.handle);
    }
    pending.state = "discarded";
    return;
  }
  if (pending.state === "open") {
    try {
      yield* closeTemp(pending, false);
    } catch (error) {
      if (!(error instanceof AtomicWriteError)) throw error;
    }
  }
  pending.state = "discarded";
  yield* removeWithRetry(pending.tempPath, pending.retry);
}

/** The whole protocol for one write whose data is known up front. */
export function* writeWhole(
  resolved: ResolvedTarget,
  source: DataSource,
  options: ProtocolOptions,
  capabilities: Capabilities,
): Steps<void> {
  const size = source.kind === "bytes"
    ? source.byteLength
    : source.kind === "blob"
    ? source.blob.size
    : undefined;
  const pending = yield* createTemp(resolved, options, capabilities, size);
  try {
    yield* writeSource(pending, source);
  } catch (error) {
    yield* discardTemp(pending);
    throw error;
  }
  yield* commitTemp(pending, options.durability, capabilities);
}

/**
 * Removes stale temp files of this library from `directory`: those whose
 * writer is gone at once, those whose writer cannot be checked once not
 * modified for `olderThan` milliseconds; never those of a running writer.
 */
export function* removeStaleTemps(
  directory: string,
  olderThan: number,
  now: number,
  retry: RetryPolicy = NO_RETRY,
): Steps<string[]> {
  const removed: string[] = [];
  const names = yield* call("cleanup", "readDirectory", directory);
  for (const name of names) {
    if (!TEMP_NAME_PATTERN.test(name)) continue;
    const path = joinPath(directory, name);
    const info = yield* attempt("cleanup", "lstat", path);
    if (!info.value?.isFile) continue;
    // A backend without `writerAlive` fails the call: that is "cannot tell".
    const alive = (yield* attempt("cleanup", "writerAlive", path)).value;
    if (alive === true) continue;
    // olderThan 0 means every temp file, even one whose clock is off (Firefox
    // reports a crashed writer's temp file as modified in the future).
    if (
      alive === undefined && olderThan > 0 &&
      now - info.value.mtimeMs < olderThan
    ) continue;
    const result = yield* removeWithRetry(path, retry);
    if (!result.error) removed.push(path);
    // Gone meanwhile, or busy (OPFS: open in another context): not stale.
    else if (result.error.code !== "ENOENT" && result.error.code !== "EBUSY") {
      throw result.error;
    }
  }
  return removed;
}
