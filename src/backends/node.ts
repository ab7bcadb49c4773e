/**
 * The Node backend: `node:fs`, also used by Bun for everything Bun's own file
 * API lacks (exclusive create, fsync, rename).
 *
 * `node:fs` is reached through `process.getBuiltinModule` rather than an
 * import, so that a browser bundle of `mod.ts` contains no `node:` import.
 */

import type * as NodeFs from "node:fs";
import { fileLocking } from "../_file_lock.ts";
import type {
  AsyncPrimitives,
  Backend,
  Capabilities,
  EntryInfo,
  Primitives,
} from "../_backend.ts";
import { processOwner, processWriterAlive } from "../_process_owner.ts";
import { COPY_CHUNK, isMountPoint } from "../_mount_point.ts";

/** An open temp file: its descriptor and its path. */
export interface NodeHandle {
  fd: number;
  path: string;
}

type Process = {
  platform: string;
  umask(): number;
  getBuiltinModule(name: "node:fs"): typeof NodeFs;
};

function currentProcess(): Process {
  return (globalThis as unknown as { process: Process }).process;
}

/** `node:fs`, reached without an import (also in Deno, for its backend). */
export function loadFs(): typeof NodeFs {
  const process = (globalThis as { process?: Process }).process;
  if (typeof process?.getBuiltinModule !== "function") {
    throw new Error(
      "The node backend needs process.getBuiltinModule (Node 20.16 or newer)",
    );
  }
  return process.getBuiltinModule("node:fs");
}

function toInfo(stats: NodeFs.Stats): EntryInfo {
  return {
    isFile: stats.isFile(),
    isDirectory: stats.isDirectory(),
    isSymlink: stats.isSymbolicLink(),
    special: stats.isFIFO()
      ? "FIFO"
      : stats.isSocket()
      ? "socket"
      : stats.isCharacterDevice()
      ? "character device"
      : stats.isBlockDevice()
      ? "block device"
      : undefined,
    mode: stats.mode & 0o7777,
    uid: stats.uid,
    gid: stats.gid,
    mtimeMs: stats.mtimeMs,
    size: stats.size,
    identity: stats.ino ? `${stats.dev}:${stats.ino}` : undefined,
  };
}

function isMissing(error: unknown): boolean {
  return (error as { code?: string })?.code === "ENOENT";
}

function mountPoint(fs: typeof NodeFs, path: string): boolean {
  return isMountPoint(path, {
    device: (file) => fs.statSync(file).dev,
    mountInfo: () => fs.readFileSync("/proc/self/mountinfo", "utf8"),
  });
}

/**
 * Replaced files at least this large are released in the background (see
 * `renameReleasingReplaced`); below it the saving is less than the cost of
 * holding them.
 */
export const RELEASE_IN_BACKGROUND_SIZE = 8 * 1024 * 1024;

/**
 * Renames `from` over `to`, holding a large regular file at `to` open
 * across the rename. The rename then only removes its name; the kernel
 * frees its blocks and drops its page cache (~200 ms per GiB on ext4,
 * measured with bench/large_profile.ts) when that descriptor is closed,
 * which happens in the thread pool, off the caller's path, even after a
 * synchronous write. A target that cannot be opened is freed by the rename,
 * as without holding. The descriptor is read-only: its close cannot lose
 * data, so its error is ignored.
 */
export function renameReleasingReplaced(
  fs: typeof NodeFs,
  from: string,
  to: string,
  replacedSize?: number,
): void {
  const held = holdIfLarge(fs, to, replacedSize);
  try {
    fs.renameSync(from, to);
  } catch (error) {
    if (held !== undefined) fs.closeSync(held);
    throw error;
  }
  if (held !== undefined) fs.close(held, () => {});
}

/** Opens `to` read-only if it is a file large enough to free off-thread. */
function holdIfLarge(
  fs: typeof NodeFs,
  to: string,
  replacedSize: number | undefined,
): number | undefined {
  // Known to be small from the protocol's stat: no need to look again.
  if (replacedSize !== undefined && replacedSize < RELEASE_IN_BACKGROUND_SIZE) {
    return undefined;
  }
  // On Windows an open target makes the rename fail (EPERM/EBUSY).
  if (currentProcess().platform === "win32") return undefined;
  try {
    const info = fs.lstatSync(to, { throwIfNoEntry: false });
    if (!info?.isFile() || info.size < RELEASE_IN_BACKGROUND_SIZE) {
      return undefined;
    }
    const { O_NOFOLLOW, O_RDONLY } = fs.constants;
    return fs.openSync(to, O_RDONLY | O_NOFOLLOW);
  } catch {
    // Unreadable (no read permission) or gone meanwhile: the rename frees
    // it, as without holding.
    return undefined;
  }
}

/** Primitives over the synchronous `node:fs` calls. */
function syncPrimitives(fs: typeof NodeFs): Primitives<NodeHandle> {
  const { COPYFILE_EXCL, COPYFILE_FICLONE, O_TRUNC, O_WRONLY } = fs.constants;
  const statOrUndefined = (stat: () => NodeFs.Stats) => {
    try {
      return toInfo(stat());
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  };
  return {
    realPath: (path) => fs.realpathSync.native(path),
    lstat: (path) => statOrUndefined(() => fs.lstatSync(path)),
    stat: (path) => statOrUndefined(() => fs.statSync(path)),
    readLink: (path) => fs.readlinkSync(path),
    makeDirectory: (path) => {
      try {
        fs.mkdirSync(path);
      } catch (error) {
        if ((error as { code?: string }).code !== "EEXIST") throw error;
      }
    },
    createTemp: (path, { mode, copyFrom }) => {
      if (!copyFrom) return { fd: fs.openSync(path, "wx", mode), path };
      // The exclusive copy creates the temp (O_EXCL) and clones or copies in
      // the kernel; then it is opened for appending.
      fs.copyFileSync(copyFrom, path, COPYFILE_EXCL | COPYFILE_FICLONE);
      try {
        // The copy took the source's bits: give it the created file's.
        const fd = fs.openSync(path, "a");
        fs.fchmodSync(fd, mode & ~currentProcess().umask());
        return { fd, path };
      } catch (error) {
        fs.rmSync(path, { force: true });
        throw error;
      }
    },
    write: (handle, bytes) => fs.writeSync(handle.fd, bytes),
    chmod: (handle, mode) => fs.fchmodSync(handle.fd, mode),
    chown: (handle, uid, gid) => fs.fchownSync(handle.fd, uid, gid),
    statHandle: (handle) => toInfo(fs.fstatSync(handle.fd)),
    sync: (handle) => fs.fsyncSync(handle.fd),
    close: (handle) => fs.closeSync(handle.fd),
    rename: (from, to, replacedSize) =>
      renameReleasingReplaced(fs, from, to, replacedSize),
    link: (from, to) => fs.linkSync(from, to),
    syncDirectory: (path) => {
      const fd = fs.openSync(path, "r");
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    },
    remove: (path) => fs.unlinkSync(path),
    readDirectory: (path) => fs.readdirSync(path),
    writerAlive: processWriterAlive,
    isMountPoint: (path) => mountPoint(fs, path),
    copyInPlace: (from, to, sync) => {
      const source = fs.openSync(from, "r");
      try {
        // Without O_CREAT: a target gone meanwhile is not created.
        const target = fs.openSync(to, O_WRONLY | O_TRUNC);
        try {
          const buffer = new Uint8Array(COPY_CHUNK);
          for (let read; (read = fs.readSync(source, buffer)) > 0;) {
            for (let at = 0; at < read;) {
              at += fs.writeSync(target, buffer, at, read - at);
            }
          }
          if (sync) fs.fsyncSync(target);
        } finally {
          fs.closeSync(target);
        }
      } finally {
        fs.closeSync(source);
      }
    },
  };
}

/**
 * Primitives over the callback `node:fs` calls: lighter than `fs/promises`
 * (no FileHandle objects) and sharing plain descriptors with the sync form.
 */
function asyncPrimitives(fs: typeof NodeFs): AsyncPrimitives<NodeHandle> {
  const { COPYFILE_EXCL, COPYFILE_FICLONE, O_TRUNC, O_WRONLY } = fs.constants;
  const call = <T>(
    start: (done: (error: Error | null, value?: T) => void) => void,
  ) =>
    new Promise<T>((resolve, reject) =>
      start((error, value) => error ? reject(error) : resolve(value as T))
    );
  const statOrUndefined = (
    stat: (done: (error: Error | null, stats: NodeFs.Stats) => void) => void,
  ) =>
    call<NodeFs.Stats>(stat).then(toInfo, (error) => {
      if (isMissing(error)) return undefined;
      throw error;
    });
  return {
    realPath: (path) => call<string>((done) => fs.realpath.native(path, done)),
    lstat: (path) => statOrUndefined((done) => fs.lstat(path, done)),
    stat: (path) => statOrUndefined((done) => fs.stat(path, done)),
    readLink: (path) => call<string>((done) => fs.readlink(path, done)),
    makeDirectory: (path) =>
      call<void>((done) => fs.mkdir(path, (error) => done(error))).catch(
        (error) => {
          if (error.code !== "EEXIST") throw error;
        },
      ),
    createTemp: async (path, { mode, copyFrom }) => {
      if (!copyFrom) {
        return {
          fd: await call<number>((d) => fs.open(path, "wx", mode, d)),
          path,
        };
      }
      await call<void>((done) =>
        fs.copyFile(copyFrom, path, COPYFILE_EXCL | COPYFILE_FICLONE, done)
      );
      try {
        // Only the copy moves data (none at all with a reflink); opening the
        // file it made is metadata, not worth another trip to the pool.
        const fd = fs.openSync(path, "a");
        fs.fchmodSync(fd, mode & ~currentProcess().umask());
        return { fd, path };
      } catch (error) {
        fs.rmSync(path, { force: true });
        throw error;
      }
    },
    write: (handle, bytes) =>
      call<number>((done) => fs.write(handle.fd, bytes, done)),
    chmod: (handle, mode) =>
      call<void>((done) => fs.fchmod(handle.fd, mode, done)),
    chown: (handle, uid, gid) =>
      call<void>((done) => fs.fchown(handle.fd, uid, gid, done)),
    statHandle: (handle) =>
      call<NodeFs.Stats>((done) => fs.fstat(handle.fd, done)).then(toInfo),
    sync: (handle) => call<void>((done) => fs.fsync(handle.fd, done)),
    close: (handle) => call<void>((done) => fs.close(handle.fd, done)),
    rename: (from, to) => call<void>((done) => fs.rename(from, to, done)),
    link: (from, to) => call<void>((done) => fs.link(from, to, done)),
    syncDirectory: async (path) => {
      // Opening and closing a directory is metadata (see `isQuick` in the
      // protocol): only the fsync goes to the thread pool.
      const fd = fs.openSync(path, "r");
      try {
        await call<void>((done) => fs.fsync(fd, done));
      } finally {
        fs.closeSync(fd);
      }
    },
    remove: (path) => call<void>((done) => fs.unlink(path, done)),
    readDirectory: (path) => call<string[]>((done) => fs.readdir(path, done)),
    // A few small reads of /proc: not worth the thread pool.
    writerAlive: (path) => Promise.resolve(processWriterAlive(path)),
    // Only after a rename failed with EBUSY/EXDEV: the same.
    isMountPoint: (path) => Promise.resolve(mountPoint(fs, path)),
    copyInPlace: async (from, to, sync) => {
      const source = await call<number>((done) => fs.open(from, "r", done));
      try {
        const target = await call<number>((done) =>
          fs.open(to, O_WRONLY | O_TRUNC, done)
        );
        try {
          const buffer = new Uint8Array(COPY_CHUNK);
          while (true) {
            const read = await call<number>((done) =>
              fs.read(source, buffer, 0, buffer.length, null, done)
            );
            if (read === 0) break;
            for (let at = 0; at < read;) {
              at += await call<number>((done) =>
                fs.write(target, buffer, at, read - at, done)
              );
            }
          }
          if (sync) await call<void>((done) => fs.fsync(target, done));
        } finally {
          fs.closeSync(target);
        }
      } finally {
        fs.closeSync(source);
      }
    },
  };
}

/** Capabilities of `node:fs` on the current platform. */
export function nodeCapabilities(platform: string): Capabilities {
  const windows = platform === "win32";
  return {
    // Windows cannot fsync a directory (FlushFileBuffers needs write access).
    syncDirectory: !windows,
    mode: !windows,
    chown: !windows,
    symlinks: true,
    retryBusyRename: windows,
    backslashSeparator: windows,
    fsync: true,
    tempOwner: processOwner,
  };
}

/** Creates the `node:fs` backend. */
export function createNodeBackend(): Backend<NodeHandle> {
  const fs = loadFs();
  const platform = (globalThis as { process?: Process }).process!.platform;
  return {
    name: "node",
    capabilities: nodeCapabilities(platform),
    sync: syncPrimitives(fs),
    async: asyncPrimitives(fs),
    locking: fileLocking,
  };
}
