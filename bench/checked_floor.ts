/**
 * Issue 13 part 1: how much of the distance to the floor is the price of
 * this library's checks. Concurrent 1 KiB writes at "full" (`--per` files
 * in each of `--dirs` directories, all at once), interleaved rounds,
 * medians:
 *
 * - this library's `writeFile`;
 * - the inline protocol of `bench/_baselines.ts`;
 * - the floor: the inline protocol without its directory fsync;
 * - the checked floor: the floor plus the three calls this library makes to
 *   keep its guarantees (realpath and stat of the target, fstat of the new
 *   file; `checkedInlineWrite`);
 * - the checked floor followed by one fsync of each directory once all its
 *   writes are done: what perfect sharing of directory fsyncs would reach
 *   with those calls ("ideal group commit").
 *
 * "checked floor ÷ floor" is what those calls cost; "ours ÷ checked floor"
 * what is left to this library's own work. In 24 runs, 2026-12-01
 * 17:36-17:42 UTC (Deno, Bun, Node; 100 files in one directory and 1,000
 * over 10): checked floor ÷ floor 0.95-1.51; ours ÷ checked floor 0.77-1.32
 * on ext4 and 1.06-1.44 on the xfs image. In 12 more (17:56-17:58 UTC) the
 * ideal group commit took about what the checked floor did, and ours was
 * 1.03-1.46x it on ext4 and 1.20-1.37x on the xfs image.
 *
 *   deno run -A bench/checked_floor.ts [--dir DIR] [--dirs 1] [--per 100] [--rounds 7]
 *   bun bench/checked_floor.ts [...]
 *   node --import tsx bench/checked_floor.ts [...]
 *
 * Not part of `deno task bench`.
 */

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { writeFile } from "../mod.ts";
import { detectRuntime } from "../src/runtime.ts";
import { baselines } from "./_baselines.ts";
import { interleave, option, spreadFiles } from "./_harness.ts";

const base = baselines();
const directories = Number(option("--dirs", "1"));
const perDirectory = Number(option("--per", "100"));
const rounds = Number(option("--rounds", "7"));
const root = fs.mkdtempSync(
  path.join(option("--dir", os.tmpdir()), "aw-checked-floor-"),
);
const bytes = new Uint8Array(1024).fill(97);
const IDEAL = "ideal group commit";

/** fsyncs a directory through `node:fs` (every runtime has it). */
function syncDirectory(folder: string): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.open(folder, "r", (error, fd) => {
      if (error) return reject(error);
      fs.fsync(fd, (syncError) => {
        fs.close(fd, () => syncError ? reject(syncError) : resolve());
      });
    });
  });
}

const writers: [string, (target: string) => Promise<unknown>][] = [
  [
    "atomic-write",
    (target) => writeFile(target, bytes, { durability: "full" }),
  ],
  ["inline protocol", (target) => base.inlineWrite(target, bytes, "full")],
  ["floor", (target) => base.inlineWrite(target, bytes, "file")],
  [
    "checked floor",
    (target) => base.checkedInlineWrite(target, bytes, "file"),
  ],
];

try {
  const contenders = [...writers, [IDEAL, writers[3][1]] as const].map((
    [name, write],
    index,
  ) => {
    const { folders, files: targets } = spreadFiles(
      root,
      `d${index}`,
      directories,
      perDirectory,
      bytes,
    );
    if (name !== IDEAL) {
      return { name, run: () => Promise.all(targets.map(write)) };
    }
    return {
      name,
      run: async () => {
        await Promise.all(targets.map(write));
        await Promise.all(folders.map(syncDirectory));
      },
    };
  });
  const timings = await interleave(contenders, rounds, 1);
  const time = (name: string) =>
    timings.find((timing) => timing.name === name)!.median;
  console.log(
    `${detectRuntime()}, ${
      directories * perDirectory
    } writes at once over ${directories} directories at "full" in ${root}, medians of ${rounds} rounds:`,
  );
  for (const { name, median } of timings) {
    console.log(`  ${name.padEnd(16)} ${median.toFixed(1).padStart(8)} ms`);
  }
  const ratio = (a: string, b: string) => (time(a) / time(b)).toFixed(2);
  console.log(
    `  ours ÷ floor ${ratio("atomic-write", "floor")}, checked floor ÷ floor ${
      ratio("checked floor", "floor")
    }, ours ÷ checked floor ${
      ratio("atomic-write", "checked floor")
    }, ours ÷ ideal group commit ${ratio("atomic-write", IDEAL)}`,
  );
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
