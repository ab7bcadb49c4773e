/**
 * Issue 13 part 4, without this library: how much of a large atomic write's
 * cost is writing into a NEW file at all. Any atomic replace must write its
 * bytes into a new file and rename it; a plain write truncates the old file
 * and writes into it. This times both with the bare `node:fs` callback API,
 * interleaved in one process, the order alternating per round and `sync`
 * before each run:
 *
 * - "plain": open(O_TRUNC) an existing file, stream, [fsync], close;
 * - "new file": open(O_EXCL) a fresh name beside it, stream, [fsync], close,
 *   then the rename over the old file [and the directory's fsync], timed
 *   apart.
 *
 *   deno run -A bench/new_file_stream.ts [--dir DIR] [--size MiB]
 *     [--rounds N] [--durability none|file|full]
 *   bun bench/new_file_stream.ts [...]
 *   node --import tsx bench/new_file_stream.ts [...]
 *
 * Defaults: the temp directory, 1024 MiB in fresh 1 MiB chunks (as the
 * bench's stream), 6 rounds, "none" (no fsync; "file" fsyncs the file,
 * "full" the directory too, as this library's levels). Not part of `deno task bench`.
 */

import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { median, option } from "./_harness.ts";
import { detectRuntime } from "../src/runtime.ts";

const MiB = 1024 * 1024;
const SIZE = Number(option("--size", "1024")) * MiB;
const ROUNDS = Number(option("--rounds", "6"));
const DURABILITY = option("--durability", "none");
if (!["none", "file", "full"].includes(DURABILITY)) {
  throw new Error(`--durability: none, file or full, not ${DURABILITY}`);
}
const dir = fs.mkdtempSync(
  path.join(option("--dir", os.tmpdir()), "aw-new-file-"),
);

type Done<T> = (error: Error | null, value?: T) => void;
const call = <T>(start: (done: Done<T>) => void) =>
  new Promise<T>((resolve, reject) =>
    start((error, value) => error ? reject(error) : resolve(value as T))
  );

/** Writes SIZE bytes in fresh 1 MiB chunks, one write call in flight. */
async function stream(fd: number) {
  for (let at = 0; at < SIZE; at += MiB) {
    const chunk = new Uint8Array(MiB).fill((at / MiB) & 255);
    for (let offset = 0; offset < chunk.length;) {
      offset += await call<number>((done) =>
        fs.write(fd, chunk, offset, chunk.length - offset, null, done)
      );
    }
  }
}

async function writeInto(file: string, flags: string) {
  const fd = await call<number>((done) => fs.open(file, flags, 0o666, done));
  await stream(fd);
  if (DURABILITY !== "none") await call<void>((done) => fs.fsync(fd, done));
  await call<void>((done) => fs.close(fd, done));
}

async function syncDirectory() {
  const fd = await call<number>((done) => fs.open(dir, "r", done));
  await call<void>((done) => fs.fsync(fd, done));
  await call<void>((done) => fs.close(fd, done));
}

const plainFile = path.join(dir, "plain");
const replacedFile = path.join(dir, "replaced");
const times = { plain: [] as number[], newFile: [] as number[] };
const renames: number[] = [];
try {
  await writeInto(plainFile, "w");
  await writeInto(replacedFile, "w");
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? ["plain", "new"] : ["new", "plain"];
    for (const which of order) {
      execFileSync("sync");
      const start = performance.now();
      if (which === "plain") {
        await writeInto(plainFile, "w");
        times.plain.push(performance.now() - start);
        continue;
      }
      const temp = `${replacedFile}.tmp`;
      await writeInto(temp, "wx");
      const written = performance.now();
      await call<void>((done) => fs.rename(temp, replacedFile, done));
      if (DURABILITY === "full") await syncDirectory();
      times.newFile.push(written - start);
      renames.push(performance.now() - written);
    }
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

const runtime = detectRuntime();
const list = (values: number[]) => values.map((v) => v.toFixed(0)).join(" ");
console.log(
  `${runtime}, ${
    SIZE / MiB
  } MiB at "${DURABILITY}" in ${dir}, ${ROUNDS} rounds (ms):`,
);
console.log(
  `  plain (O_TRUNC)   median ${median(times.plain).toFixed(0)}  [${
    list(times.plain)
  }]`,
);
console.log(
  `  new file (O_EXCL) median ${median(times.newFile).toFixed(0)}  [${
    list(times.newFile)
  }], then rename${DURABILITY === "full" ? " + directory fsync" : ""} median ${
    median(renames).toFixed(0)
  } [${list(renames)}]`,
);
console.log(
  `  plain ÷ (new file + rename): ${
    (median(times.plain) /
      median(times.newFile.map((t, i) => t + renames[i]))).toFixed(2)
  }x of plain's throughput`,
);
