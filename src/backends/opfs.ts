/**
 * The browser backend: the Origin Private File System.
 *
 * An existing file is replaced through `createWritable()` on the file
 * itself, which every engine writes aside and swaps in whole on `close()`
 * (`openReplacement`). A new file, an append or a `createNew` write goes
 * through a temp file handle created beside the target, written with
 * `createWritable()` (or a sync access handle in a worker), and then
 * `move()`d onto the target name: `move(directory, name)`, the only form
 * WebKit takes. Writers of one path are serialised across tabs and workers
 * with a Web Lock held from the open to the close, or from the temp file's
 * creation to its move or removal.
 *
 * There is no fsync in OPFS: what a browser crash leaves is up to the
 * engine; `move()` replaces the target whole in all three engines.
 *
 * Every OPFS call is a round trip to the browser's storage process that
 * costs about as much as a fifth of a small save (`bench/opfs.ts --calls`),
 * so a save makes as few as it can: directory handles are cached (and
 * refreshed by the one `realPath` each save starts with), the temp file's
 * handle is kept for its move, and the two Web Locks are asked for at once.
 *
 * Each temp file also has a Web Lock of its own, taken before the file is
 * created and released after its move or removal, whatever `locks` says: a
 * context that dies drops its locks, so `cleanupTemps` in any tab or worker
 * knows a dead writer's temp file (no lock held) from a live one's.
 */

import { webLocking } from "../_web_lock.ts";
import type {
  AsyncPrimitives,
  Backend,
  CreateTempOptions,
  EntryInfo,
} from "../_backend.ts";
import { ownerOfTempName, WEB_LOCK_OWNER } from "../_owner.ts";

/*
 * The parts of the OPFS and Web Locks APIs used here, declared locally so
 * that every entry type-checks without the DOM libraries (a Deno project with
 * default compiler options has none); the browser's objects have them all.
 */

/** A directory handle (`FileSystemDirectoryHandle`). */
interface OpfsDirectory {
  readonly kind: "directory";
  readonly name: string;
  getDirectoryHandle(
    name: string,
    options?: { create?: boolean },
  ): Promise<OpfsDirectory>;
  getFileHandle(
    name: string,
    options?: { create?: boolean },
  ): Promise<OpfsFile>;
  removeEntry(name: string): Promise<void>;
  /** The names from this directory down to `descendant`, or null. */
  resolve(descendant: OpfsDirectory): Promise<string[] | null>;
  keys(): AsyncIterable<string>;
}

/** A file handle (`FileSystemFileHandle`). */
interface OpfsFile {
  readonly kind: "file";
  readonly name: string;
  getFile(): Promise<File>;
  createWritable(options?: { keepExistingData?: boolean }): Promise<
    OpfsWritable
  >;
  /** Only in dedicated workers. */
  createSyncAccessHandle?(): Promise<SyncAccessHandle>;
  /** Not in TypeScript's DOM library yet; the only form WebKit takes. */
  move(directory: OpfsDirectory, name: string): Promise<void>;
}

/** The part of `FileSystemWritableFileStream` used here. */
interface OpfsWritable {
  write(data: Uint8Array<ArrayBuffer> | Blob): Promise<void>;
  close(): Promise<void>;
  abort(reason?: unknown): Promise<void>;
}

/** The part of `FileSystemSyncAccessHandle` used here. */
interface SyncAccessHandle {
  write(data: Uint8Array, options: { at: number }): number;
  flush(): void;
  close(): void;
}

/** The part of the Web Locks `LockManager` used here. */
interface WebLocks {
  request(name: string, callback: () => Promise<void>): Promise<void>;
  query(): Promise<{ held?: { name?: string }[] }>;
}

/** `navigator`, as far as this backend uses it. */
interface OpfsNavigator {
  storage: { getDirectory(): Promise<OpfsDirectory> };
  locks?: WebLocks;
  userAgent?: string;
  /** Chromium's. */
  userAgentData?: { brands?: { brand: string }[] };
}

/** The browser's `navigator`; absent in Node 20, without OPFS in Deno. */
function browserNavigator(): OpfsNavigator | undefined {
  return (globalThis as unknown as { navigator?: OpfsNavigator }).navigator;
}

/**
 * Whether a replace of an existing file goes through `createWritable()` on
 * the file itself (`openReplacement`), decided per engine by what a SIGKILL
 * of the whole browser during loops of saves of a 64 KiB file left behind,
 * relaunched (tests/browser/_crash.ts; README "In the browser"):
 * - Chromium 156: yes. A whole version after every kill (18 in a page, 7 in
 *   a worker).
 * - Firefox ESR 153: yes. In a page an EMPTY file after 2 of 74 kills,
 *   against 7 of 18 with a temp file and `move()`; in a worker 2 of 19,
 *   against 2 of 44 with a temp file written through a sync access handle,
 *   after which 2 of 46 relaunched pages never finished their check (one
 *   hung reading that file).
 * - WebKitGTK 2.50, and any engine not named here: no. An empty file after
 *   1 of 24 kills, against 0 of 31 with a temp file (and 0 of 7 in a worker).
 */
function replacesWholeOnClose(): boolean {
  const navigator = browserNavigator();
  const brands = navigator?.userAgentData?.brands ?? [];
  return brands.some(({ brand }) => brand === "Chromium") ||
    /\bFirefox\//.test(navigator?.userAgent ?? "");
}

/** The OPFS root directory. */
function opfsRoot(): Promise<OpfsDirectory> {
  return browserNavigator()!.storage.getDirectory();
}

/** An open temp file, or a target opened for replacement. */
export interface OpfsHandle {
  path: string;
  file: OpfsFile;
  /** A replacement (`openReplacement`): releases the target's Web Lock. */
  releaseTarget?: () => void;
  /** In a page, or where sync access handles are refused (WebKit). */
  writable?: OpfsWritable;
  /** In a dedicated worker: measured faster (bench/opfs_sync_handle.ts). */
  syncHandle?: SyncAccessHandle;
  /** Where the next sync-handle write goes. */
  position: number;
}

/** Whether this context can open sync access handles; probed once. */
let syncHandles: Promise<boolean> | undefined;

/**
 * In a worker, the largest save written straight through `createWritable()`
 * on the target where the engine has sync access handles. Above it a temp
 * file written through a sync access handle is faster, despite the extra
 * create and move (~3 ms in Chromium, ~7 ms in Firefox): bench/opfs.ts
 * measured a sync access handle at ~1.3 ms/MiB against ~8 ms/MiB for
 * `createWritable()` in Chromium (~4.7 against ~5.4 in Firefox).
 */
const REPLACE_IN_WORKER_MAX = 512 * 1024;

/**
 * Probes sync access handles on a throwaway file. Only dedicated workers have
 * them, and WebKit 2.50 refuses them with NotSupportedError AND leaves the
 * refused file unwritable, so the probe must not touch a real temp file.
 * `guard` takes the probe file's temp lock (see `createOpfsBackend`).
 */
function canUseSyncHandles(
  dir: OpfsDirectory,
  name: string,
  guard: (probeName: string) => Promise<() => void>,
): Promise<boolean> {
  return syncHandles ??= (async () => {
    if ("document" in globalThis) return false;
    const probeName = `.probe${name}`; // still a temp name for cleanupTemps
    const release = await guard(probeName);
    const probe = await dir.getFileHandle(probeName, {
      create: true,
    }).catch((error) => {
      release();
      throw error;
    });
    try {
      if (typeof probe.createSyncAccessHandle !== "function") return false;
      (await probe.createSyncAccessHandle()).close();
      return true;
    } catch {
      return false;
    } finally {
      await dir.removeEntry(probeName).catch(() => {});
      release();
    }
  })();
}

/** Options of `createOpfsBackend`. */
export interface OpfsBackendOptions {
  /** The directory paths resolve against; default: the OPFS root. */
  root?: OpfsDirectory;
  /** Serialise writers of one path across tabs and workers (Web Locks). */
  locks?: boolean;
}

const FORBIDDEN_NAMES = new Set(["", ".", ".."]);

/** Throws a TypeError for a path OPFS cannot hold, before anything is touched. */
export function validateOpfsPath(path: string): void {
  const names = path.replace(/^\/+/, "").split("/");
  for (const name of names) {
    if (FORBIDDEN_NAMES.has(name) || name.includes("\\")) {
      throw new TypeError(
        `Expected an OPFS path of "/"-separated names without "", ".", ".." or "\\", got ${
          JSON.stringify(path)
        }`,
      );
    }
  }
}

/** The DOMException names of OPFS mapped to errno-style codes. */
const CODES: Record<string, string> = {
  NotFoundError: "ENOENT",
  TypeMismatchError: "ENOTDIR",
  NoModificationAllowedError: "EBUSY",
  QuotaExceededError: "ENOSPC",
  InvalidModificationError: "EISDIR",
  NotAllowedError: "EACCES",
};

/** Gives an OPFS error an errno-style `code`, keeping it as the cause. */
function withCode(error: unknown, code?: string): Error {
  const name = (error as { name?: string })?.name ?? "Error";
  const message = (error as { message?: string })?.message ?? String(error);
  return Object.assign(new Error(`${name}: ${message}`, { cause: error }), {
    name,
    code: code ?? CODES[name] ?? name,
  });
}

function isNamed(error: unknown, name: string): boolean {
  return (error as { name?: string })?.name === name;
}

function names(path: string): string[] {
  return path.split("/").filter((name) => name !== "" && name !== ".");
}

/** A path's canonical form, the key of the caches: "/a/b". */
function canonical(path: string): string {
  return `/${names(path).join("/")}`;
}

function split(path: string): { parent: string; name: string } {
  const parts = names(path);
  const name = parts.pop() ?? "";
  return { parent: `/${parts.join("/")}`, name };
}

/**
 * One sync-handle write. Its count is checked: Firefox returns a short count
 * over quota; the protocol writes the rest, and no progress is a quota error.
 */
function writeSync(handle: OpfsHandle, bytes: Uint8Array): number {
  let written: number;
  try {
    written = handle.syncHandle!.write(bytes, { at: handle.position });
  } catch (error) {
    throw withCode(error);
  }
  if (written === 0 && bytes.length > 0) {
    throw withCode(new Error("the sync access handle wrote nothing"), "ENOSPC");
  }
  handle.position += written;
  return written;
}

/** Writes all of `bytes` through a sync handle (the old content, for append). */
function writeAll(handle: OpfsHandle, bytes: Uint8Array): void {
  for (let offset = 0; offset < bytes.length;) {
    offset += writeSync(handle, bytes.subarray(offset));
  }
}

/** True if `name` in `dir` is a directory. */
async function isDirectory(
  dir: OpfsDirectory,
  name: string,
): Promise<boolean> {
  try {
    await dir.getDirectoryHandle(name);
    return true;
  } catch (error) {
    if (
      isNamed(error, "NotFoundError") || isNamed(error, "TypeMismatchError")
    ) {
      return false;
    }
    throw withCode(error);
  }
}

/** Creates the OPFS backend. */
export function createOpfsBackend(
  options: OpfsBackendOptions = {},
): Backend<OpfsHandle> {
  const useLocks = options.locks ?? true;
  let rootPromise: Promise<OpfsDirectory> | undefined;
  const root = () =>
    rootPromise ??= options.root ? Promise.resolve(options.root) : opfsRoot();
  /** An open temp file, by temp path. */
  const temps = new Map<string, {
    /** Kept for its move: no lookup then. */
    file: OpfsFile;
    /** Releases its Web Locks. */
    release: () => void;
    /** The file it replaces. */
    target: string;
    /** Started by `close`, awaited before the move (see `refuseDirectory`). */
    targetCheck?: Promise<void>;
  }>();
  /**
   * Directory handles by canonical path ("/a/b"), so that the calls of one
   * save walk no path. Each save starts with a `realPath` of its directory,
   * which walks afresh: a directory removed (or removed and made again) by
   * another context since is noticed there, as it was without the cache.
   */
  const directories = new Map<string, OpfsDirectory>();
  /**
   * The file handles the protocol's stat of a target found, by canonical
   * path, for the `openReplacement` that follows: one round trip less per
   * save. A file removed since fails at `createWritable()`, and a temp file
   * is written instead.
   */
  const statted = new Map<string, OpfsFile>();
  const STATTED_MAX = 64;

  /** Forgets `key` and everything under it. */
  function forget(key: string): void {
    for (const cached of directories.keys()) {
      if (cached === key || cached.startsWith(`${key}/`)) {
        directories.delete(cached);
      }
    }
  }

  /** The handle of a directory; `fresh`: looked up again, not cached. */
  async function directory(
    path: string,
    fresh = false,
  ): Promise<OpfsDirectory> {
    const parts = names(path);
    const cached = fresh ? undefined : directories.get(`/${parts.join("/")}`);
    if (cached) return cached;
    let handle = await root();
    let key = "";
    for (const name of parts) {
      key += `/${name}`;
      const known = fresh ? undefined : directories.get(key);
      if (known) {
        handle = known;
        continue;
      }
      try {
        handle = await handle.getDirectoryHandle(name);
      } catch (error) {
        forget(key);
        throw withCode(error);
      }
      directories.set(key, handle);
    }
    return handle;
  }

  async function entry(
    path: string,
  ): Promise<OpfsFile | OpfsDirectory | undefined> {
    const { parent, name } = split(path);
    if (name === "") return await directory("/");
    let dir: OpfsDirectory;
    try {
      dir = await directory(parent);
    } catch (error) {
      if ((error as { code?: string }).code === "ENOENT") return undefined;
      throw error;
    }
    // A directory this backend has seen is asked for as one first.
    const key = canonical(path);
    const kinds = directories.has(key)
      ? ["directory", "file"] as const
      : ["file", "directory"] as const;
    for (const kind of kinds) {
      try {
        if (kind === "file") return await dir.getFileHandle(name);
        const handle = await dir.getDirectoryHandle(name);
        directories.set(key, handle);
        return handle;
      } catch (error) {
        // NotFoundError: nothing of either kind has that name.
        if (isNamed(error, "NotFoundError")) return undefined;
        if (!isNamed(error, "TypeMismatchError")) throw withCode(error);
      }
    }
    return undefined;
  }

  /**
   * What `path` is. `withTime` reads the modification time, which costs a
   * `getFile()` per call: only `cleanupTemps` needs it (through `lstat`; OPFS
   * has no links, so `stat` of a save's target leaves it out, as 0).
   */
  async function info(
    path: string,
    withTime: boolean,
  ): Promise<EntryInfo | undefined> {
    const handle = await entry(path);
    if (!handle) return undefined;
    const isFile = handle.kind === "file";
    if (isFile && !withTime) {
      if (statted.size >= STATTED_MAX) statted.clear();
      statted.set(canonical(path), handle);
    }
    return {
      isFile,
      isDirectory: !isFile,
      isSymlink: false,
      mode: undefined,
      uid: undefined,
      gid: undefined,
      mtimeMs: isFile && withTime ? (await handle.getFile()).lastModified : 0,
    };
  }

  /** Where `root` is inside the OPFS root, so lock names name real files. */
  let rootPath: Promise<string> | undefined;
  const lockPrefix = () =>
    rootPath ??= (async () => {
      if (!options.root) return "";
      const opfs = await opfsRoot();
      const parts = await opfs.resolve(options.root);
      // A handle outside the OPFS root has no path: fall back to its name.
      return `/${(parts ?? [`?${options.root.name}`]).join("/")}`;
    })();

  /** Takes the Web Lock `name` (granted at once if free); returns its release. */
  function hold(locks: WebLocks, name: string): Promise<() => void> {
    return new Promise((granted, failed) => {
      locks.request(
        name,
        () => new Promise<void>((release) => granted(release)),
      ).catch(failed);
    });
  }

  /**
   * The name of a temp file's own Web Lock. Writers take it only for names
   * that say so (`web-lock` owner), so that a temp file an older version
   * wrote is not taken for a dead writer's.
   */
  async function tempLockName(path: string): Promise<string | undefined> {
    const locks = browserNavigator()?.locks;
    if (!locks || ownerOfTempName(path) !== WEB_LOCK_OWNER) return undefined;
    return `atomic-write-temp:${await lockPrefix()}${canonical(path)}`;
  }

  /** Takes the temp lock of `path`, if it has one; returns its release. */
  async function tempLock(path: string): Promise<() => void> {
    const name = await tempLockName(path); // a name: Web Locks exist
    return name ? await hold(browserNavigator()!.locks!, name) : () => {};
  }

  /** Waits for the Web Lock of `target`; returns its release. */
  async function lock(target: string): Promise<() => void> {
    const locks = browserNavigator()?.locks;
    if (!useLocks || !locks) return () => {};
    return await hold(locks, `atomic-write:${await lockPrefix()}${target}`);
  }

  /**
   * Rejects with EISDIR if `to` is a directory: Firefox's move() deletes a
   * directory in the way and WebKit moves the file into it, so this runs
   * before every move. The protocol's earlier stat of the target saw no
   * directory; this sees one made meanwhile, as closely before the move as
   * a round trip allows (there is no atomic check).
   */
  async function refuseDirectory(to: string): Promise<void> {
    const target = split(to);
    if (await isDirectory(await directory(target.parent), target.name)) {
      throw withCode(new Error(`"${to}" is a directory`), "EISDIR");
    }
  }

  /** Moves the temp file onto the target; with `noReplace` never over one. */
  async function moveOnto(from: string, to: string, noReplace: boolean) {
    // The protocol keeps the temp file beside the target: one directory.
    const source = split(from);
    const target = split(to);
    const dir = await directory(target.parent);
    const temp = temps.get(from);
    // The check started by `close` serves the first attempt only: a retried
    // move checks again.
    const started = temp?.target === to ? temp.targetCheck : undefined;
    if (temp) temp.targetCheck = undefined;
    await (started ?? refuseDirectory(to));
    if (noReplace && await entry(to)) {
      throw withCode(new Error(`"${to}" exists`), "EEXIST");
    }
    try {
      const file = temp?.file ?? await dir.getFileHandle(source.name);
      await file.move(dir, target.name);
    } catch (error) {
      throw withCode(error);
    }
    temps.get(from)?.release();
    temps.delete(from);
  }

  /**
   * A plain replace of an existing file: `createWritable()` on the target
   * itself, under the target's Web Lock. All three engines write it aside
   * and swap it in whole on `close()` (`abort()` keeps the old content),
   * which is all a temp file and its move give here, at a third of the
   * calls. Declined (a temp file is written) when the target is gone, and
   * in a worker for large or unknown sizes where a sync access handle is
   * faster (`REPLACE_IN_WORKER_MAX`).
   */
  async function openReplacement(
    target: string,
    size: number | undefined,
  ): Promise<OpfsHandle | undefined> {
    const inWorker = !("document" in globalThis);
    if (inWorker && !(size !== undefined && size <= REPLACE_IN_WORKER_MAX)) {
      const sync = await syncHandles?.catch(() => true);
      if (sync !== false) return undefined;
    }
    const { parent, name } = split(target);
    const key = canonical(target);
    const known = statted.get(key);
    statted.delete(key);
    // The lock and the lookup are independent round trips: made at once.
    const [targetLock, found] = await Promise.allSettled([
      lock(target),
      known ?? directory(parent).then((dir) => dir.getFileHandle(name)),
    ]);
    const release = targetLock.status === "fulfilled"
      ? targetLock.value
      : () => {};
    try {
      if (targetLock.status === "rejected") throw targetLock.reason;
      if (found.status === "rejected") throw found.reason;
      const file = found.value;
      return {
        path: target,
        file,
        writable: await file.createWritable({ keepExistingData: false }),
        position: 0,
        releaseTarget: release,
      };
    } catch (error) {
      release();
      // Removed since the protocol's stat: a temp file creates it anew.
      if (isNamed(error, "NotFoundError")) return undefined;
      throw (error as { code?: string }).code ? error : withCode(error);
    }
  }

  const primitives: AsyncPrimitives<OpfsHandle> = {
    // The protocol asks only for the target's directory (OPFS has no links),
    // once per save and first: the walk afresh keeps the cache honest.
    realPath: async (path) => {
      try {
        await directory(path, true);
      } catch (error) {
        // The path may name a file.
        if ((error as { code?: string }).code !== "ENOTDIR") throw error;
        if (!await entry(path)) {
          throw withCode(new Error(`"${path}" not found`), "ENOENT");
        }
      }
      return canonical(path);
    },
    lstat: (path) => info(path, true),
    stat: (path) => info(path, false),
    readLink: () =>
      Promise.reject(withCode(new Error("no links in OPFS"), "EINVAL")),
    makeDirectory: async (path) => {
      const { parent, name } = split(path);
      try {
        const made = await (await directory(parent)).getDirectoryHandle(name, {
          create: true,
        });
        directories.set(canonical(path), made);
      } catch (error) {
        throw withCode(error);
      }
    },
    createTemp: async (path, { copyFrom, target }: CreateTempOptions) => {
      statted.delete(canonical(target));
      const { parent, name } = split(path);
      // The target's lock, the temp file's own lock (before the file exists:
      // cleanupTemps never sees it unlocked) and the check that the name is
      // free (OPFS has no exclusive create; no lock guards a random name, so
      // the check needs none) are independent round trips: made at once.
      const [targetLock, tempFileLock, taken] = await Promise.allSettled([
        lock(target),
        tempLock(path),
        entry(path),
      ]);
      const release = () => {
        if (tempFileLock.status === "fulfilled") tempFileLock.value();
        if (targetLock.status === "fulfilled") targetLock.value();
      };
      try {
        for (const result of [targetLock, tempFileLock, taken]) {
          if (result.status === "rejected") throw result.reason;
        }
        if (taken.status === "fulfilled" && taken.value) {
          throw withCode(new Error(`"${path}" exists`), "EEXIST");
        }
        const dir = await directory(parent);
        const sync = await canUseSyncHandles(
          dir,
          name,
          (probeName) => tempLock(`${parent}/${probeName}`),
        );
        const file = await dir.getFileHandle(name, { create: true });
        temps.set(path, { file, release, target });
        const handle: OpfsHandle = sync
          ? {
            path,
            file,
            syncHandle: await file.createSyncAccessHandle!(),
            position: 0,
          }
          : {
            path,
            file,
            writable: await file.createWritable({ keepExistingData: false }),
            position: 0,
          };
        if (copyFrom) {
          const source = await entry(copyFrom) as OpfsFile;
          const old = await source.getFile();
          if (handle.writable) await handle.writable.write(old);
          else await writeAll(handle, new Uint8Array(await old.arrayBuffer()));
        }
        return handle;
      } catch (error) {
        temps.delete(path);
        release();
        throw (error as { code?: string }).code ? error : withCode(error);
      }
    },
    write: async (handle, bytes) => {
      if (handle.syncHandle) return writeSync(handle, bytes);
      try {
        // WebKit 2.50 writes a view's whole buffer, ignoring its offset and
        // length: hand it an exact copy when the view is partial.
        const exact = bytes.byteOffset === 0 &&
            bytes.byteLength === bytes.buffer.byteLength
          ? bytes
          : bytes.slice();
        await handle.writable!.write(exact as Uint8Array<ArrayBuffer>);
      } catch (error) {
        // Chromium reports a quota failure as AbortError on the data pipe.
        throw withCode(
          error,
          isNamed(error, "AbortError") ? "ENOSPC" : undefined,
        );
      }
      return bytes.length;
    },
    chmod: () => Promise.resolve(),
    chown: () => Promise.resolve(),
    statHandle: () =>
      Promise.resolve({ mode: undefined, uid: undefined, gid: undefined }),
    sync: () => Promise.resolve(),
    openReplacement,
    abortReplacement: async (handle) => {
      try {
        await handle.writable!.abort();
      } catch (error) {
        throw withCode(error);
      } finally {
        handle.releaseTarget!();
      }
    },
    close: async (handle) => {
      if (handle.releaseTarget) {
        // A replacement: this close is the commit.
        try {
          await handle.writable!.close();
        } catch (error) {
          throw withCode(
            error,
            isNamed(error, "AbortError") ? "ENOSPC" : undefined,
          );
        } finally {
          handle.releaseTarget();
        }
        return;
      }
      const temp = temps.get(handle.path);
      if (temp) {
        // The move's check of the target is a round trip like the close:
        // made at the same time (a failure surfaces at the move).
        temp.targetCheck = refuseDirectory(temp.target);
        temp.targetCheck.catch(() => {});
      }
      try {
        if (handle.syncHandle) {
          handle.syncHandle.flush();
          handle.syncHandle.close();
          return;
        }
        await handle.writable!.close();
      } catch (error) {
        throw withCode(
          error,
          isNamed(error, "AbortError") ? "ENOSPC" : undefined,
        );
      }
    },
    rename: (from, to) => moveOnto(from, to, false),
    // No links in OPFS: under the Web Lock held since the temp file was
    // created, a check then a move cannot race another writer of this
    // library (a writer with `locks: false` can still race it).
    link: (from, to) => moveOnto(from, to, true),
    syncDirectory: () => Promise.resolve(),
    remove: async (path) => {
      const { parent, name } = split(path);
      try {
        await (await directory(parent)).removeEntry(name);
      } catch (error) {
        throw withCode(error);
      } finally {
        temps.get(path)?.release();
        temps.delete(path);
      }
    },
    // cleanupTemps starts here: the walk afresh keeps the cache honest.
    readDirectory: async (path) => {
      const result: string[] = [];
      const dir = await directory(path, true);
      for await (const name of dir.keys()) result.push(name);
      return result;
    },
    writerAlive: async (path) => {
      const name = await tempLockName(path);
      if (!name) return undefined;
      // A lock is held by a running context: one that died dropped it.
      const { held = [] } = await browserNavigator()!.locks!.query();
      return held.some((lock) => lock.name === name);
    },
  };

  return {
    name: "opfs",
    locking: webLocking,
    capabilities: {
      syncDirectory: false,
      mode: false,
      chown: false,
      symlinks: false,
      // NoModificationAllowedError (mapped to EBUSY) from a racing writer
      // outside this library is retried with backoff.
      retryBusyRename: true,
      replacesOnClose: replacesWholeOnClose(),
      backslashSeparator: false,
      fsync: false,
      // Each temp file has its own Web Lock (see `tempLockName`), whatever
      // the `locks` option says.
      tempOwner: () => browserNavigator()?.locks ? WEB_LOCK_OWNER : undefined,
    },
    async: primitives,
    validatePath: validateOpfsPath,
    withSettings: (settings) =>
      settingsCache(
        settings.root as OpfsDirectory | undefined ?? options.root,
        settings.locks ?? useLocks,
      ),
  };
}

/** One backend per root and lock setting, so Web Locks and state are shared. */
const backends = new WeakMap<object, Map<boolean, Backend<OpfsHandle>>>();
const DEFAULT_ROOT = {};

function settingsCache(
  root: OpfsDirectory | undefined,
  locks: boolean,
): Backend<OpfsHandle> {
  const key = root ?? DEFAULT_ROOT;
  let byLocks = backends.get(key);
  if (!byLocks) backends.set(key, byLocks = new Map());
  let backend = byLocks.get(locks);
  if (!backend) {
    byLocks.set(locks, backend = createOpfsBackend({ root, locks }));
  }
  return backend;
}
