/**
 * The two baselines every benchmark compares against, written with the
 * runtime's own calls and nothing else:
 *
 * - "plain write": open the target, write, (fsync), close. Not atomic: the
 *   cost of doing without safety.
 * - "inline protocol": the bare atomic-write protocol inline (exclusive temp
 *   beside the target, write, fsync, close, rename, directory fsync, unlink
 *   on failure) with no options, no mode or owner keeping, no symlink
 *   resolution and no queueing: the floor for a correct atomic write.
 *
 * Deno uses `Deno.*`; Node and Bun use the callback `node:fs` API, whose
 * thread-pool round trip measured cheapest there.
 */

import * as fs from "node:fs";

/** How much of a write must be on the device when it resolves. */
export type Durability = "none" | "file" | "full";

/** One runtime's baselines. */
export interface Baselines {
  plainWrite(
    path: string,
    bytes: Uint8Array,
    durability: Durability,
  ): Promise<void>;
  inlineWrite(
    path: string,
    bytes: Uint8Array,
    durability: Durability,
  ): Promise<void>;
  inlineWriteSync(
    path: string,
    bytes: Uint8Array,
    durability: Durability,
  ): void;
  /**
   * The inline protocol plus the three calls this library makes to keep its
   * guarantees: a realpath and a stat of the target before the create, an
   * fstat of the new file after it (see `resolveTarget`, `createTemp` and
   * `applyOwnerAndMode` in `src/_protocol.ts`). Their results are not used:
   * this measures what the calls cost.
   */
  checkedInlineWrite(
    path: string,
    bytes: Uint8Array,
    durability: Durability,
  ): Promise<void>;
  plainStream(
    path: string,
    chunks: AsyncIterable<Uint8Array>,
    durability: Durability,
  ): Promise<void>;
  inlineStream(
    path: string,
    chunks: AsyncIterable<Uint8Array>,
    durability: Durability,
  ): Promise<void>;
  plainAppend(
    path: string,
    bytes: Uint8Array,
    durability: Durability,
  ): Promise<void>;
  inlineAppend(
    path: string,
    bytes: Uint8Array,
    durability: Durability,
  ): Promise<void>;
}

let counter = 0;

/** A fresh name beside `path`: the pid and a counter are unique enough here. */
function tempBeside(path: string): string {
  const slash = path.lastIndexOf("/");
  return `${path.slice(0, slash)}/.${path.slice(slash + 1)}.${
    (globalThis as unknown as { process: { pid: number } }).process.pid
  }-${counter++}.tmp`;
}

function directoryOf(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}

type Done<T> = (error: Error | null, value?: T) => void;

function call<T>(start: (done: Done<T>) => void): Promise<T> {
  return new Promise<T>((resolve, reject) =>
    start((error, value) => error ? reject(error) : resolve(value as T))
  );
}

/** Baselines over the callback `node:fs` API (Node and Bun). */
export function nodeFsBaselines(): Baselines {
  const open = (path: string, flags: string) =>
    call<number>((done) => fs.open(path, flags, 0o666, done));
  const writeAll = async (fd: number, bytes: Uint8Array) => {
    for (let offset = 0; offset < bytes.length;) {
      offset += await call<number>((done) =>
        fs.write(fd, bytes, offset, bytes.length - offset, null, done)
      );
    }
  };
  const fsync = (fd: number) => call<void>((done) => fs.fsync(fd, done));
  const close = (fd: number) => call<void>((done) => fs.close(fd, done));
  const syncDirectory = async (path: string) => {
    const fd = await open(directoryOf(path), "r");
    try {
      await fsync(fd);
    } finally {
      await close(fd);
    }
  };
  /** Temp, fill, fsync, close, rename, directory fsync; unlink on failure. */
  const atomically = async (
    path: string,
    durability: Durability,
    fill: (fd: number) => Promise<void>,
    copyFrom?: string,
    checks = false,
  ) => {
    if (checks) {
      await call<string>((done) => fs.realpath.native(path, done));
      await call<fs.Stats>((done) => fs.stat(path, done));
    }
    const temp = tempBeside(path);
    let fd: number;
    if (copyFrom) {
      await call<void>((done) =>
        fs.copyFile(copyFrom, temp, fs.constants.COPYFILE_EXCL, done)
      );
      fd = await open(temp, "a");
    } else {
      fd = await open(temp, "wx");
    }
    try {
      if (checks) await call<fs.Stats>((done) => fs.fstat(fd, done));
      await fill(fd);
      if (durability !== "none") await fsync(fd);
    } catch (error) {
      await close(fd).catch(() => {});
      await call<void>((done) => fs.unlink(temp, done)).catch(() => {});
      throw error;
    }
    await close(fd);
    try {
      await call<void>((done) => fs.rename(temp, path, done));
    } catch (error) {
      await call<void>((done) => fs.unlink(temp, done)).catch(() => {});
      throw error;
    }
    if (durability === "full") await syncDirectory(path);
  };
  const inPlace = async (
    path: string,
    flags: string,
    durability: Durability,
    fill: (fd: number) => Promise<void>,
  ) => {
    const fd = await open(path, flags);
    try {
      await fill(fd);
      if (durability !== "none") await fsync(fd);
    } finally {
      await close(fd);
    }
  };
  const writeChunks =
    (chunks: AsyncIterable<Uint8Array>) => async (fd: number) => {
      for await (const chunk of chunks) await writeAll(fd, chunk);
    };
  return {
    plainWrite: (path, bytes, durability) =>
      inPlace(path, "w", durability, (fd) => writeAll(fd, bytes)),
    inlineWrite: (path, bytes, durability) =>
      atomically(path, durability, (fd) => writeAll(fd, bytes)),
    checkedInlineWrite: (path, bytes, durability) =>
      atomically(
        path,
        durability,
        (fd) => writeAll(fd, bytes),
        undefined,
        true,
      ),
    inlineWriteSync(path, bytes, durability) {
      const temp = tempBeside(path);
      const fd = fs.openSync(temp, "wx", 0o666);
      try {
        for (let offset = 0; offset < bytes.length;) {
          offset += fs.writeSync(fd, bytes, offset);
        }
        if (durability !== "none") fs.fsyncSync(fd);
        fs.closeSync(fd);
        fs.renameSync(temp, path);
      } catch (error) {
        try {
          fs.closeSync(fd);
        } catch { /* already closed */ }
        fs.rmSync(temp, { force: true });
        throw error;
      }
      if (durability === "full") {
        const directory = fs.openSync(directoryOf(path), "r");
        try {
          fs.fsyncSync(directory);
        } finally {
          fs.closeSync(directory);
        }
      }
    },
    plainStream: (path, chunks, durability) =>
      inPlace(path, "w", durability, writeChunks(chunks)),
    inlineStream: (path, chunks, durability) =>
      atomically(path, durability, writeChunks(chunks)),
    plainAppend: (path, bytes, durability) =>
      inPlace(path, "a", durability, (fd) => writeAll(fd, bytes)),
    inlineAppend: (path, bytes, durability) =>
      atomically(path, durability, (fd) => writeAll(fd, bytes), path),
  };
}

/** Baselines over `Deno.*`. */
export function denoBaselines(): Baselines {
  const writeAll = async (file: Deno.FsFile, bytes: Uint8Array) => {
    for (let offset = 0; offset < bytes.length;) {
      offset += await file.write(offset === 0 ? bytes : bytes.subarray(offset));
    }
  };
  const syncDirectory = async (path: string) => {
    using directory = await Deno.open(directoryOf(path));
    await directory.sync();
  };
  const atomically = async (
    path: string,
    durability: Durability,
    fill: (file: Deno.FsFile) => Promise<void>,
    copyFrom?: string,
    checks = false,
  ) => {
    if (checks) {
      await Deno.realPath(path);
      await Deno.stat(path);
    }
    const temp = tempBeside(path);
    let file: Deno.FsFile;
    if (copyFrom) {
      // Deno.copyFile overwrites: exclusivity comes from the fresh name.
      await Deno.copyFile(copyFrom, temp);
      file = await Deno.open(temp, { append: true });
    } else {
      file = await Deno.open(temp, { write: true, createNew: true });
    }
    try {
      if (checks) await file.stat();
      await fill(file);
      if (durability !== "none") await file.sync();
      file.close();
      await Deno.rename(temp, path);
    } catch (error) {
      try {
        file.close();
      } catch { /* already closed */ }
      await Deno.remove(temp).catch(() => {});
      throw error;
    }
    if (durability === "full") await syncDirectory(path);
  };
  const inPlace = async (
    path: string,
    options: Deno.OpenOptions,
    durability: Durability,
    fill: (file: Deno.FsFile) => Promise<void>,
  ) => {
    using file = await Deno.open(path, options);
    await fill(file);
    if (durability !== "none") await file.sync();
  };
  const truncate = { write: true, create: true, truncate: true };
  const writeChunks =
    (chunks: AsyncIterable<Uint8Array>) => async (file: Deno.FsFile) => {
      for await (const chunk of chunks) await writeAll(file, chunk);
    };
  return {
    plainWrite: (path, bytes, durability) =>
      inPlace(path, truncate, durability, (file) => writeAll(file, bytes)),
    inlineWrite: (path, bytes, durability) =>
      atomically(path, durability, (file) => writeAll(file, bytes)),
    checkedInlineWrite: (path, bytes, durability) =>
      atomically(
        path,
        durability,
        (file) => writeAll(file, bytes),
        undefined,
        true,
      ),
    inlineWriteSync(path, bytes, durability) {
      const temp = tempBeside(path);
      const file = Deno.openSync(temp, { write: true, createNew: true });
      try {
        for (let offset = 0; offset < bytes.length;) {
          offset += file.writeSync(bytes.subarray(offset));
        }
        if (durability !== "none") file.syncSync();
        file.close();
        Deno.renameSync(temp, path);
      } catch (error) {
        try {
          file.close();
        } catch { /* already closed */ }
        try {
          Deno.removeSync(temp);
        } catch { /* never created */ }
        throw error;
      }
      if (durability === "full") {
        using directory = Deno.openSync(directoryOf(path));
        directory.syncSync();
      }
    },
    plainStream: (path, chunks, durability) =>
      inPlace(path, truncate, durability, writeChunks(chunks)),
    inlineStream: (path, chunks, durability) =>
      atomically(path, durability, writeChunks(chunks)),
    plainAppend: (path, bytes, durability) =>
      inPlace(
        path,
        { append: true },
        durability,
        (file) => writeAll(file, bytes),
      ),
    inlineAppend: (path, bytes, durability) =>
      atomically(path, durability, (file) => writeAll(file, bytes), path),
  };
}

/** The baselines of the runtime this runs in. */
export function baselines(): Baselines {
  return "Deno" in globalThis ? denoBaselines() : nodeFsBaselines();
}
