/**
 * Every crash state of the real protocol code.
 *
 * `RecordingFileSystem` is a backend whose primitives work on an in-memory
 * file system and log, as the REAL protocol (`src/_protocol.ts`) calls them,
 * the persistence steps a disk would see: entry create/remove/rename, size
 * changes, 4 KiB data blocks, file fsync and directory fsync. `crashStates`
 * then builds every on-disk state that conservative POSIX rules allow after a
 * crash at every point of the trace:
 *
 * - a file fsync persists that file's earlier size and data steps;
 * - a directory fsync persists the earlier entry changes in that directory;
 * - every step not yet persisted may be lost, independently of the others
 *   (so also reordered, and a file's blocks torn apart).
 *
 * This is a fake on purpose: the fake IS the point (it enumerates states no
 * real crash test can reach). The negative controls in `crash_states_test.ts`
 * show it catches broken protocols.
 */

import type {
  AsyncPrimitives,
  Backend,
  Capabilities,
  CreateTempOptions,
  EntryInfo,
  Primitives,
} from "../src/_backend.ts";

/** Data blocks as a disk writes them. */
export const BLOCK_SIZE = 4096;

/** One persistence step, or a marker in the trace. */
export type Step =
  | { kind: "create"; dir: string; name: string; inode: number }
  | { kind: "remove"; dir: string; name: string }
  | { kind: "rename"; dir: string; from: string; to: string; inode: number }
  | { kind: "size"; inode: number; size: number }
  | { kind: "block"; inode: number; index: number; bytes: Uint8Array }
  | { kind: "fsync"; inode: number }
  | { kind: "fsync-dir"; dir: string }
  /** A write's promise resolved: `version` is the content it committed. */
  | { kind: "ack"; version: number };

/** The primitives that persist: recorded when called, not when they end. */
const FSYNCS = new Set(["sync", "syncDirectory"]);

/** A directory: names to inode numbers. */
type Directory = Map<string, number>;

/** What a crash left: directories and file contents. */
export interface DiskImage {
  directories: Map<string, Directory>;
  files: Map<number, Uint8Array>;
}

interface Handle {
  inode: number;
  path: string;
  closed: boolean;
}

function error(code: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

function split(path: string): { dir: string; name: string } {
  const index = path.lastIndexOf("/");
  return {
    dir: index <= 0 ? "/" : path.slice(0, index),
    name: path.slice(index + 1),
  };
}

const CAPABILITIES: Capabilities = {
  syncDirectory: true,
  mode: false,
  chown: false,
  symlinks: false,
  retryBusyRename: false,
  backslashSeparator: false,
  fsync: true,
};

/** An in-memory file system that records persistence steps. */
export class RecordingFileSystem {
  readonly trace: Step[] = [];
  #directories = new Map<string, Directory>();
  #files = new Map<number, Uint8Array>();
  #nextInode = 1;
  /** When set, "temp" files are the target itself: a broken, in-place protocol. */
  inPlace = false;

  constructor(image?: DiskImage) {
    if (image) {
      for (const [dir, entries] of image.directories) {
        this.#directories.set(dir, new Map(entries));
      }
      for (const [inode, data] of image.files) {
        this.#files.set(inode, data.slice());
        this.#nextInode = Math.max(this.#nextInode, inode + 1);
      }
    }
  }

  /** A directory that exists from the start (persisted). */
  addDirectory(dir: string): void {
    this.#directories.set(dir, new Map());
  }

  /** A file that exists from the start (persisted). */
  addFile(path: string, data: Uint8Array): void {
    const { dir, name } = split(path);
    const inode = this.#nextInode++;
    this.#directories.get(dir)!.set(name, inode);
    this.#files.set(inode, data.slice());
  }

  /** The persisted image before any step of the trace. */
  snapshot(): DiskImage {
    const directories = new Map<string, Directory>();
    for (const [dir, entries] of this.#directories) {
      directories.set(dir, new Map(entries));
    }
    const files = new Map<number, Uint8Array>();
    for (const [inode, data] of this.#files) files.set(inode, data.slice());
    return { directories, files };
  }

  /** Current content of a path (what a reader sees now). */
  read(path: string): Uint8Array | undefined {
    const { dir, name } = split(path);
    const inode = this.#directories.get(dir)?.get(name);
    return inode === undefined ? undefined : this.#files.get(inode);
  }

  /** Names in a directory now. */
  list(dir: string): string[] {
    return [...(this.#directories.get(dir)?.keys() ?? [])];
  }

  #lookup(path: string): number | undefined {
    const { dir, name } = split(path);
    const entries = this.#directories.get(dir);
    if (!entries) throw error("ENOENT", `no directory ${dir}`);
    return entries.get(name);
  }

  #info(path: string): EntryInfo | undefined {
    if (this.#directories.has(path)) {
      return {
        isFile: false,
        isDirectory: true,
        isSymlink: false,
        mode: undefined,
        uid: undefined,
        gid: undefined,
        mtimeMs: 0,
      };
    }
    const { dir } = split(path);
    if (!this.#directories.has(dir)) return undefined;
    const inode = this.#lookup(path);
    if (inode === undefined) return undefined;
    return {
      isFile: true,
      isDirectory: false,
      isSymlink: false,
      mode: undefined,
      uid: undefined,
      gid: undefined,
      mtimeMs: 0,
    };
  }

  /** Writes bytes at `offset`, logging the size change and touched blocks. */
  #writeAt(inode: number, offset: number, bytes: Uint8Array): void {
    const old = this.#files.get(inode)!;
    const end = Math.max(old.length, offset + bytes.length);
    const next = new Uint8Array(end);
    next.set(old);
    next.set(bytes, offset);
    this.#files.set(inode, next);
    if (end !== old.length) this.trace.push({ kind: "size", inode, size: end });
    const first = Math.floor(offset / BLOCK_SIZE);
    const last = Math.floor((offset + bytes.length - 1) / BLOCK_SIZE);
    for (let index = first; index <= last && bytes.length > 0; index++) {
      this.trace.push({
        kind: "block",
        inode,
        index,
        bytes: next.slice(index * BLOCK_SIZE, (index + 1) * BLOCK_SIZE),
      });
    }
  }

  /** The synchronous primitives over this file system. */
  primitives(): Primitives<Handle> {
    const handles = new Map<string, string>();
    return {
      realPath: (path) => {
        if (this.#info(path) === undefined) throw error("ENOENT", path);
        return path;
      },
      lstat: (path) => this.#info(path),
      stat: (path) => this.#info(path),
      readLink: (path) => {
        throw error("EINVAL", path);
      },
      makeDirectory: (path) => {
        if (!this.#directories.has(path)) {
          this.#directories.set(path, new Map());
        }
      },
      createTemp: (path: string, options: CreateTempOptions) => {
        if (this.inPlace) {
          // Broken protocol: open the target itself, truncated.
          handles.set(path, options.target);
          const existing = this.#lookup(options.target);
          const { dir, name } = split(options.target);
          const inode = existing ?? this.#nextInode++;
          if (existing === undefined) {
            this.#files.set(inode, new Uint8Array(0));
            this.#directories.get(dir)!.set(name, inode);
            this.trace.push({ kind: "create", dir, name, inode });
          } else if (!options.copyFrom) {
            this.#files.set(inode, new Uint8Array(0));
            this.trace.push({ kind: "size", inode, size: 0 });
          }
          return { inode, path, closed: false };
        }
        if (this.#lookup(path) !== undefined) throw error("EEXIST", path);
        const { dir, name } = split(path);
        const inode = this.#nextInode++;
        this.#files.set(inode, new Uint8Array(0));
        this.#directories.get(dir)!.set(name, inode);
        this.trace.push({ kind: "create", dir, name, inode });
        if (options.copyFrom) {
          const source = this.#files.get(this.#lookup(options.copyFrom)!)!;
          this.#writeAt(inode, 0, source);
        }
        return { inode, path, closed: false };
      },
      write: (handle, bytes) => {
        const size = this.#files.get(handle.inode)!.length;
        this.#writeAt(handle.inode, size, bytes);
        return bytes.length;
      },
      chmod: () => {},
      chown: () => {},
      statHandle: () => ({ mode: undefined, uid: undefined, gid: undefined }),
      sync: (handle) => {
        this.trace.push({ kind: "fsync", inode: handle.inode });
      },
      close: (handle) => {
        handle.closed = true;
      },
      rename: (from, to) => {
        if (handles.has(from)) return; // in place: nothing to rename
        const inode = this.#lookup(from);
        if (inode === undefined) throw error("ENOENT", from);
        const { dir, name } = split(from);
        const target = split(to);
        if (dir !== target.dir) {
          throw error("EXDEV", "rename across directories");
        }
        this.#directories.get(dir)!.delete(name);
        this.#directories.get(dir)!.set(target.name, inode);
        this.trace.push({
          kind: "rename",
          dir,
          from: name,
          to: target.name,
          inode,
        });
      },
      syncDirectory: (dir) => {
        this.trace.push({ kind: "fsync-dir", dir });
      },
      remove: (path) => {
        if (handles.delete(path)) return;
        const inode = this.#lookup(path);
        if (inode === undefined) throw error("ENOENT", path);
        const { dir, name } = split(path);
        this.#directories.get(dir)!.delete(name);
        this.trace.push({ kind: "remove", dir, name });
      },
      readDirectory: (dir) => this.list(dir),
    };
  }

  /**
   * A backend over this file system. The async forms resolve on a later
   * timer tick (so concurrent writes interleave), or with `immediate` in a
   * microtask (fast, for recovery runs).
   */
  backend(immediate = false): Backend {
    const sync = this.primitives() as Primitives;
    const async = Object.fromEntries(
      Object.entries(sync).map(([name, primitive]) => [
        name,
        (...args: unknown[]) =>
          new Promise((resolve, reject) => {
            const run = () => {
              try {
                resolve((primitive as (...a: unknown[]) => unknown)(...args));
              } catch (failure) {
                reject(failure);
              }
            };
            if (immediate) queueMicrotask(run);
            else if (FSYNCS.has(name)) {
              // An fsync is only sure to cover what happened before it was
              // called: record it now, resolve later, so that steps made
              // while it is in flight count as not covered by it.
              let outcome: unknown;
              let failed = false;
              try {
                outcome = (primitive as (...a: unknown[]) => unknown)(...args);
              } catch (failure) {
                [outcome, failed] = [failure, true];
              }
              setTimeout(() => failed ? reject(outcome) : resolve(outcome), 0);
            } else setTimeout(run, 0);
          }),
      ]),
    ) as unknown as AsyncPrimitives;
    return {
      name: this.inPlace ? "recording-in-place" : "recording",
      capabilities: CAPABILITIES,
      sync,
      async,
    };
  }
}

/** A crash state: the image and the index of the crash point in the trace. */
export interface CrashState {
  /** Steps [0, point) happened before the crash. */
  point: number;
  image: DiskImage;
}

/** Options of `crashStates`. */
export interface EnumerationOptions {
  /** Above this many unpersisted steps, subsets are sampled. */
  exhaustiveLimit?: number;
  /** Subsets sampled per crash point beyond the limit. */
  samples?: number;
}

function persistedSteps(trace: Step[], point: number): boolean[] {
  const persisted = new Array<boolean>(point).fill(false);
  for (let i = 0; i < point; i++) {
    const step = trace[i];
    if (step.kind === "fsync") {
      for (let j = 0; j < i; j++) {
        const earlier = trace[j];
        if (
          (earlier.kind === "size" || earlier.kind === "block") &&
          earlier.inode === step.inode
        ) persisted[j] = true;
      }
    } else if (step.kind === "fsync-dir") {
      for (let j = 0; j < i; j++) {
        const earlier = trace[j];
        if (
          (earlier.kind === "create" || earlier.kind === "remove" ||
            earlier.kind === "rename") && earlier.dir === step.dir
        ) persisted[j] = true;
      }
    }
  }
  return persisted;
}

function applyStep(image: DiskImage, step: Step): void {
  switch (step.kind) {
    case "create":
      image.directories.get(step.dir)!.set(step.name, step.inode);
      if (!image.files.has(step.inode)) {
        image.files.set(step.inode, new Uint8Array(0));
      }
      break;
    case "remove":
      image.directories.get(step.dir)!.delete(step.name);
      break;
    case "rename": {
      const entries = image.directories.get(step.dir)!;
      entries.delete(step.from);
      entries.set(step.to, step.inode);
      if (!image.files.has(step.inode)) {
        image.files.set(step.inode, new Uint8Array(0));
      }
      break;
    }
    case "size": {
      const old = image.files.get(step.inode) ?? new Uint8Array(0);
      const next = new Uint8Array(step.size);
      next.set(old.subarray(0, step.size));
      image.files.set(step.inode, next);
      break;
    }
    case "block": {
      const data = image.files.get(step.inode) ?? new Uint8Array(0);
      const start = step.index * BLOCK_SIZE;
      // Bytes past the persisted size stay invisible, as on a real disk.
      if (start >= data.length) break;
      data.set(step.bytes.subarray(0, data.length - start), start);
      break;
    }
  }
}

function copyImage(image: DiskImage): DiskImage {
  const directories = new Map<string, Directory>();
  for (const [dir, entries] of image.directories) {
    directories.set(dir, new Map(entries));
  }
  const files = new Map<number, Uint8Array>();
  for (const [inode, data] of image.files) files.set(inode, data.slice());
  return { directories, files };
}

/** A small deterministic random generator for sampling. */
function random(seed: number): () => number {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
}

/**
 * Every crash state allowed by the rules above, at every crash point of the
 * trace, starting from `initial`.
 */
export function* crashStates(
  initial: DiskImage,
  trace: Step[],
  options: EnumerationOptions = {},
): Generator<CrashState> {
  const limit = options.exhaustiveLimit ?? 12;
  const samples = options.samples ?? 2048;
  for (let point = 0; point <= trace.length; point++) {
    const persisted = persistedSteps(trace, point);
    const optional: number[] = [];
    const base = copyImage(initial);
    for (let i = 0; i < point; i++) {
      const kind = trace[i].kind;
      if (kind === "ack" || kind === "fsync" || kind === "fsync-dir") continue;
      if (!persisted[i]) optional.push(i);
    }
    const subsets: boolean[][] = [];
    if (optional.length <= limit) {
      for (let mask = 0; mask < 2 ** optional.length; mask++) {
        subsets.push(optional.map((_, bit) => (mask & (1 << bit)) !== 0));
      }
    } else {
      const next = random(point + 1);
      subsets.push(optional.map(() => false), optional.map(() => true));
      for (let k = 0; k < optional.length; k++) {
        // Every prefix: a disk that wrote back in order up to some step.
        subsets.push(optional.map((_, bit) => bit < k));
      }
      for (let s = 0; s < samples; s++) {
        subsets.push(optional.map(() => next() < 0.5));
      }
    }
    for (const chosen of subsets) {
      const image = copyImage(base);
      const included = new Set(optional.filter((_, bit) => chosen[bit]));
      for (let i = 0; i < point; i++) {
        if (persisted[i] || included.has(i)) applyStep(image, trace[i]);
      }
      yield { point, image };
    }
  }
}
