/** The Deno backend: `Deno.open`, `Deno.rename` and friends. */

import { fileLocking } from "../_file_lock.ts";
import type {
  AsyncPrimitives,
  Backend,
  EntryInfo,
  Primitives,
} from "../_backend.ts";
import { processOwner, processWriterAlive } from "../_process_owner.ts";
import { COPY_CHUNK, isMountPoint } from "../_mount_point.ts";
import { loadFs, renameReleasingReplaced } from "./node.ts";

/** An open temp file: Deno's file and its path. */
export interface DenoHandle {
  file: Deno.FsFile;
  path: string;
}

function toInfo(info: Deno.FileInfo): EntryInfo {
  return {
    isFile: info.isFile,
    isDirectory: info.isDirectory,
    isSymlink: info.isSymlink,
    special: info.isFifo
      ? "FIFO"
      : info.isSocket
      ? "socket"
      : info.isCharDevice
      ? "character device"
      : info.isBlockDevice
      ? "block device"
      : undefined,
    mode: info.mode === null ? undefined : info.mode & 0o7777,
    uid: info.uid ?? undefined,
    gid: info.gid ?? undefined,
    mtimeMs: info.mtime?.getTime() ?? 0,
    size: info.size,
    identity: info.ino ? `${info.dev}:${info.ino}` : undefined,
  };
}

function missingAsUndefined(error: unknown): undefined {
  if (error instanceof Deno.errors.NotFound) return undefined;
  throw error;
}

function mountPoint(path: string): boolean {
  return isMountPoint(path, {
    device: (file) => Deno.statSync(file).dev,
    mountInfo: () => {
      // Asked first, so that a program without read access to /proc is not
      // prompted for it.
      const file = "/proc/self/mountinfo";
      const { state } = Deno.permissions.querySync({
        name: "read",
        path: file,
      });
      if (state !== "granted") throw new Error("no read access to /proc");
      return Deno.readTextFileSync(file);
    },
  });
}

const syncPrimitives: Primitives<DenoHandle> = {
  realPath: (path) => Deno.realPathSync(path),
  lstat: (path) => {
    try {
      return toInfo(Deno.lstatSync(path));
    } catch (error) {
      return missingAsUndefined(error);
    }
  },
  stat: (path) => {
    try {
      return toInfo(Deno.statSync(path));
    } catch (error) {
      return missingAsUndefined(error);
    }
  },
  readLink: (path) => Deno.readLinkSync(path),
  makeDirectory: (path) => {
    try {
      Deno.mkdirSync(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
  },
  createTemp: (path, { mode, copyFrom }) => {
    const file = Deno.openSync(path, { write: true, createNew: true, mode });
    if (copyFrom) {
      try {
        // copy_file_range into the temp we own, then continue at its end.
        // The copy takes the source's bits: restore what the umask let
        // through at the create (reading the umask needs --allow-sys).
        const created = file.statSync().mode!;
        Deno.copyFileSync(copyFrom, path);
        Deno.chmodSync(path, created & 0o7777);
        file.seekSync(0, Deno.SeekMode.End);
      } catch (error) {
        file.close();
        Deno.removeSync(path);
        throw error;
      }
    }
    return { file, path };
  },
  write: (handle, bytes) => handle.file.writeSync(bytes),
  chmod: (handle, mode) => Deno.chmodSync(handle.path, mode),
  chown: (handle, uid, gid) => Deno.chownSync(handle.path, uid, gid),
  statHandle: (handle) => toInfo(handle.file.statSync()),
  sync: (handle) => handle.file.syncSync(),
  close: (handle) => handle.file.close(),
  // Deno's own close runs on the main thread; `node:fs`'s close(fd, cb) in
  // Deno runs off it (a 512 MiB file: 0.4 ms to dispatch, freed 168 ms
  // later), so a large replaced file is held and released through it.
  rename: (from, to, replacedSize) =>
    renameReleasingReplaced(loadFs(), from, to, replacedSize),
  link: (from, to) => Deno.linkSync(from, to),
  // try/finally rather than `using`: Node 20 and WebKit cannot parse `using`,
  // and the built package and browser bundles must load there.
  syncDirectory: (path) => {
    const directory = Deno.openSync(path, { read: true });
    try {
      directory.syncSync();
    } finally {
      directory.close();
    }
  },
  remove: (path) => Deno.removeSync(path),
  readDirectory: (path) => Array.from(Deno.readDirSync(path), (e) => e.name),
  writerAlive: processWriterAlive,
  isMountPoint: mountPoint,
  copyInPlace: (from, to, sync) => {
    const source = Deno.openSync(from, { read: true });
    try {
      // Without create: a target gone meanwhile is not created.
      const target = Deno.openSync(to, { write: true, truncate: true });
      try {
        const buffer = new Uint8Array(COPY_CHUNK);
        for (let read; (read = source.readSync(buffer)) !== null;) {
          for (let at = 0; at < read;) {
            at += target.writeSync(buffer.subarray(at, read));
          }
        }
        if (sync) target.syncSync();
      } finally {
        target.close();
      }
    } finally {
      source.close();
    }
  },
};

const asyncPrimitives: AsyncPrimitives<DenoHandle> = {
  realPath: (path) => Deno.realPath(path),
  lstat: (path) => Deno.lstat(path).then(toInfo, missingAsUndefined),
  stat: (path) => Deno.stat(path).then(toInfo, missingAsUndefined),
  readLink: (path) => Deno.readLink(path),
  makeDirectory: (path) =>
    Deno.mkdir(path).catch((error) => {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }),
  createTemp: async (path, { mode, copyFrom }) => {
    if (!copyFrom) {
      return {
        file: await Deno.open(path, { write: true, createNew: true, mode }),
        path,
      };
    }
    // Only the copy moves data (none at all where copy_file_range clones, as
    // on xfs); the rest is metadata, not worth trips to the thread pool.
    const file = Deno.openSync(path, { write: true, createNew: true, mode });
    try {
      const created = file.statSync().mode!;
      await Deno.copyFile(copyFrom, path);
      Deno.chmodSync(path, created & 0o7777);
      file.seekSync(0, Deno.SeekMode.End);
    } catch (error) {
      file.close();
      Deno.removeSync(path);
      throw error;
    }
    return { file, path };
  },
  write: (handle, bytes) => handle.file.write(bytes),
  chmod: (handle, mode) => Deno.chmod(handle.path, mode),
  chown: (handle, uid, gid) => Deno.chown(handle.path, uid, gid),
  statHandle: async (handle) => toInfo(await handle.file.stat()),
  sync: (handle) => handle.file.sync(),
  close: (handle) => Promise.resolve(handle.file.close()),
  rename: (from, to) => Deno.rename(from, to),
  link: (from, to) => Deno.link(from, to),
  syncDirectory: async (path) => {
    // Opening and closing a directory is metadata (see `isQuick` in the
    // protocol): only the fsync goes to the thread pool.
    const directory = Deno.openSync(path, { read: true });
    try {
      await directory.sync();
    } finally {
      directory.close();
    }
  },
  remove: (path) => Deno.remove(path),
  readDirectory: async (path) => {
    const names: string[] = [];
    for await (const entry of Deno.readDir(path)) names.push(entry.name);
    return names;
  },
  // A few small reads of /proc: not worth the thread pool.
  writerAlive: (path) => Promise.resolve(processWriterAlive(path)),
  // Only after a rename failed with EBUSY/EXDEV: the same.
  isMountPoint: (path) => Promise.resolve(mountPoint(path)),
  copyInPlace: async (from, to, sync) => {
    const source = await Deno.open(from, { read: true });
    try {
      const target = await Deno.open(to, { write: true, truncate: true });
      try {
        const buffer = new Uint8Array(COPY_CHUNK);
        for (let read; (read = await source.read(buffer)) !== null;) {
          for (let at = 0; at < read;) {
            at += await target.write(buffer.subarray(at, read));
          }
        }
        if (sync) await target.sync();
      } finally {
        target.close();
      }
    } finally {
      source.close();
    }
  },
};

/** Creates the Deno backend; throws outside Deno. */
export function createDenoBackend(): Backend<DenoHandle> {
  if (typeof Deno === "undefined") {
    throw new Error("The deno backend needs the Deno runtime");
  }
  const windows = Deno.build.os === "windows";
  return {
    name: "deno",
    locking: fileLocking,
    capabilities: {
      // Windows cannot fsync a directory (FlushFileBuffers needs write access).
      syncDirectory: !windows,
      mode: !windows,
      chown: !windows,
      symlinks: true,
      retryBusyRename: windows,
      backslashSeparator: windows,
      fsync: true,
      tempOwner: processOwner,
    },
    sync: syncPrimitives,
    async: asyncPrimitives,
  };
}
