/**
 * The npm alternatives, each behind one small adapter, with the durability
 * levels each can honestly offer:
 *
 * - write-file-atomic and atomically: fsync of the file on or off, never the
 *   directory ("none", "file").
 * - steno: never fsyncs ("none"); coalesces writes to one file by itself.
 * - fast-write-atomic: always fsyncs the file, never the directory ("file").
 *
 * None of them fsyncs the directory, so at "full" only this library and the
 * baselines compete.
 */

import * as fs from "node:fs";
import { Readable } from "node:stream";
import writeFileAtomic from "write-file-atomic";
import * as atomically from "atomically";
import { Writer } from "steno";
import fastWriteAtomic from "fast-write-atomic";
import type { Durability } from "./_baselines.ts";

/** One npm package as a contender. */
export interface Alternative {
  name: string;
  durabilities: Durability[];
  write(path: string, bytes: Uint8Array, durability: Durability): Promise<void>;
  writeSync?(path: string, bytes: Uint8Array, durability: Durability): void;
  /** Writes a stream, where the package accepts one. */
  stream?(
    path: string,
    chunks: AsyncIterable<Uint8Array>,
    durability: Durability,
  ): Promise<void>;
}

const stenoWriters = new Map<string, Writer>();

/** All four packages. */
export const alternatives: Alternative[] = [
  {
    name: "write-file-atomic",
    durabilities: ["none", "file"],
    // A fresh options object per call, as callers write it: the package
    // stores the target's mode and owner into the object it is given.
    write: (path, bytes, durability) =>
      writeFileAtomic(path, bytes, { fsync: durability !== "none" }),
    writeSync: (path, bytes, durability) =>
      writeFileAtomic.sync(path, bytes, { fsync: durability !== "none" }),
  },
  {
    name: "atomically",
    durabilities: ["none", "file"],
    write: (path, bytes, durability) =>
      atomically.writeFile(path, bytes, { fsync: durability !== "none" }),
    writeSync: (path, bytes, durability) =>
      atomically.writeFileSync(path, bytes, { fsync: durability !== "none" }),
    stream: (path, chunks, durability) =>
      atomically.writeFile(path, Readable.from(chunks) as never, {
        fsync: durability !== "none",
      }),
  },
  {
    name: "steno",
    durabilities: ["none"],
    write(path, bytes) {
      let writer = stenoWriters.get(path);
      if (!writer) stenoWriters.set(path, writer = new Writer(path));
      return writer.write(bytes);
    },
  },
  {
    name: "fast-write-atomic",
    durabilities: ["file"],
    write: (path, bytes) =>
      new Promise<void>((resolve, reject) =>
        fastWriteAtomic(
          path,
          bytes,
          (error: Error | null) => error ? reject(error) : resolve(),
        )
      ),
  },
];

/**
 * An append with a package that has none: read the whole file, add the new
 * bytes, write it all atomically (what its users have to do).
 */
export async function appendByRewrite(
  alternative: Alternative,
  path: string,
  bytes: Uint8Array,
  durability: Durability,
): Promise<void> {
  const old = await fs.promises.readFile(path);
  const whole = new Uint8Array(old.length + bytes.length);
  whole.set(old);
  whole.set(bytes, old.length);
  await alternative.write(path, whole, durability);
}
