/**
 * Issue 13 part 1, the single durable write: what CPU time spent between
 * fsyncs costs on a disk. Sequential 1 KiB replaces at "file" through the
 * synchronous `node:fs` API, in blocks taking turns, medians of 12 rounds:
 *
 * - this library's `writeFileSync`;
 * - a bare copy of its calls (realpath of the target, stat, exclusive create
 *   with a name as long and random as its temp files, fstat, write, fsync,
 *   close, rename), as strace shows them;
 * - the same copy with a busy loop of `--spin` µs before each write.
 *
 * The first two differ by what this library adds to its own calls (the
 * protocol's JavaScript, its checks); the third shows what that much CPU
 * time between fsyncs costs on the disk: about its own length in the runs
 * of 2026-12-01 17:00 UTC on the xfs image and ext4, though one earlier
 * /tmp experiment on the xfs image had seen twice that.
 *
 *   deno run -A bench/cpu_between_fsyncs.ts [--dir DIR] [--spin µs] [--block N]
 *   bun bench/cpu_between_fsyncs.ts [...]
 *   node --import tsx bench/cpu_between_fsyncs.ts [...]
 *
 * Defaults: the temp directory, 150 µs, blocks of 200 writes. Not part of
 * `deno task bench`.
 */

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { writeFileSync } from "../mod.ts";
import { median, option } from "./_harness.ts";
import { detectRuntime } from "../src/runtime.ts";

const SPIN_MS = Number(option("--spin", "150")) / 1000;
const BLOCK = Number(option("--block", "200"));
const ROUNDS = 12;
const dir = fs.realpathSync(
  fs.mkdtempSync(path.join(option("--dir", os.tmpdir()), "aw-cpu-fsync-")),
);
const bytes = new Uint8Array(1024).fill(97);

/** 16 random base-36 characters, as in this library's temp names. */
function randomName(): string {
  const random = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(random, (byte) => (byte % 36).toString(36)).join("");
}

/** The library's calls for one replace, made directly. */
function bareCopy(target: string, spinMs: number) {
  return () => {
    const until = performance.now() + spinMs;
    while (performance.now() < until) { /* the CPU time under test */ }
    fs.realpathSync.native(target);
    fs.statSync(target);
    const temp = path.join(
      dir,
      `.${
        path.basename(target)
      }.bench-${process.pid}.${randomName()}.atomic-tmp`,
    );
    const fd = fs.openSync(temp, "wx", 0o644);
    try {
      fs.fstatSync(fd);
      fs.writeSync(fd, bytes);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, target);
  };
}

const contenders: [string, () => void][] = [
  ["this library's writeFileSync", () => {
    writeFileSync(path.join(dir, "library"), bytes, { durability: "file" });
  }],
  ["bare copy of its calls", bareCopy(path.join(dir, "copy"), 0)],
  [
    `the copy + ${SPIN_MS * 1000} µs busy loop`,
    bareCopy(path.join(dir, "spin"), SPIN_MS),
  ],
];
const times = contenders.map(() => [] as number[]);
try {
  for (const name of ["library", "copy", "spin"]) {
    fs.writeFileSync(path.join(dir, name), bytes);
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (let step = 0; step < contenders.length; step++) {
      const index = (round + step) % contenders.length;
      const start = performance.now();
      for (let write = 0; write < BLOCK; write++) contenders[index][1]();
      times[index].push((performance.now() - start) * 1000 / BLOCK);
    }
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

const runtime = detectRuntime();
console.log(
  `${runtime}, 1 KiB at "file" in ${dir}, blocks of ${BLOCK}, medians of ${ROUNDS} rounds:`,
);
const copy = median(times[1]);
contenders.forEach(([name], index) => {
  const value = median(times[index]);
  const delta = index === 1
    ? ""
    : `  (${value - copy >= 0 ? "+" : ""}${
      (value - copy).toFixed(0)
    } µs against the copy)`;
  console.log(
    `  ${name.padEnd(32)} ${value.toFixed(0).padStart(6)} µs${delta}`,
  );
});
