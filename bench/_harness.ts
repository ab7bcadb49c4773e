/**
 * Measuring helpers shared by the benchmarks: interleaved rounds with medians,
 * peak-memory sampling, and counting renames onto a file with inotify.
 *
 * Runs unchanged in Deno, Bun and Node (only `node:` modules and web APIs).
 */

import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** One way of doing a workload's unit of work. */
export interface Contender {
  name: string;
  /** Runs the unit once; the harness times it. */
  run(): Promise<unknown>;
  /** Untimed work before each timed run (resetting a file, say). */
  prepare?(): Promise<unknown> | unknown;
}

/** Timings of one contender over all rounds, in milliseconds per unit. */
export interface Timing {
  name: string;
  samples: number[];
  median: number;
}

/**
 * The value after `name` on the command line (`--rounds 5`), or `fallback`:
 * the options of the standalone bench scripts.
 */
export function option(name: string, fallback: string): string {
  const args = (globalThis as unknown as { process: { argv: string[] } })
    .process.argv;
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : fallback;
}

/**
 * `directories` fresh directories under `root` (named `prefix-N`), each with
 * `perDirectory` files holding `bytes`. Returns the directories and the files
 * in round-robin order over them, so that writing the files in order keeps
 * every directory busy at once.
 */
export function spreadFiles(
  root: string,
  prefix: string,
  directories: number,
  perDirectory: number,
  bytes: Uint8Array,
): { folders: string[]; files: string[] } {
  const folders = Array.from({ length: directories }, (_, index) => {
    const folder = path.join(root, `${prefix}-${index}`);
    fs.mkdirSync(folder);
    return folder;
  });
  const files = Array.from(
    { length: directories * perDirectory },
    (_, index) =>
      path.join(
        folders[index % directories],
        `target-${Math.floor(index / directories)}`,
      ),
  );
  for (const file of files) fs.writeFileSync(file, bytes);
  return { folders, files };
}

/** The middle value (upper middle for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

/**
 * Runs every contender `units` times per round, `rounds` rounds, rotating the
 * order each round so that no contender always runs first (warm caches) or
 * last (a full page cache). Each contender first runs one untimed unit, so
 * that no round pays for compiling its code. Returns milliseconds per unit,
 * one sample per round.
 *
 * With `slice` below `units`, a round takes turns in slices of that many
 * units (the order rotating per slice), so that every contender's units of
 * a round are spread over the same stretch of time: a disk whose fsync
 * latency drifts over seconds (this machine's) then slows all of them alike,
 * where whole blocks of units in turn would each meet a different latency.
 */
export async function interleave(
  contenders: Contender[],
  rounds: number,
  units: number,
  slice = units,
): Promise<Timing[]> {
  for (const contender of contenders) {
    await contender.prepare?.();
    await contender.run();
  }
  const samples = contenders.map(() => [] as number[]);
  const turns = Math.ceil(units / slice);
  for (let round = 0; round < rounds; round++) {
    const spent = contenders.map(() => 0);
    for (let turn = 0; turn < turns; turn++) {
      const count = Math.min(slice, units - turn * slice);
      for (let step = 0; step < contenders.length; step++) {
        const index = (round * turns + turn + step) % contenders.length;
        const contender = contenders[index];
        await contender.prepare?.();
        const start = performance.now();
        for (let unit = 0; unit < count; unit++) await contender.run();
        spent[index] += performance.now() - start;
      }
    }
    spent.forEach((total, index) => samples[index].push(total / units));
  }
  return contenders.map(({ name }, index) => ({
    name,
    samples: samples[index],
    median: median(samples[index]),
  }));
}

/**
 * Writes every dirty page of the system back (untimed): a large write leaves
 * hundreds of MiB for the kernel to flush, which would otherwise slow down
 * whichever contender runs next.
 */
export function flushDirtyPages(): void {
  spawnSync("sync");
}

type MemoryProcess = {
  memoryUsage: { rss?: () => number } & (() => { rss: number });
};

/** The resident set size of this process, in bytes. */
export function residentBytes(): number {
  const process = (globalThis as unknown as { process: MemoryProcess })
    .process;
  return process.memoryUsage.rss?.() ?? process.memoryUsage().rss;
}

/** Asks the runtime for a full garbage collection, where it allows one. */
export function collectGarbage(): void {
  const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
  if (bun) return bun.gc(true);
  (globalThis as { gc?: () => void }).gc?.();
}

/**
 * Runs `work` while sampling the resident set every few milliseconds;
 * returns how far the peak rose above the level just before.
 */
export async function peakGrowth(
  work: () => Promise<unknown>,
): Promise<{ milliseconds: number; peakGrowthBytes: number }> {
  collectGarbage();
  const before = residentBytes();
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, residentBytes());
  }, 5);
  const start = performance.now();
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  const milliseconds = performance.now() - start;
  peak = Math.max(peak, residentBytes());
  return { milliseconds, peakGrowthBytes: peak - before };
}

/**
 * True if `inotifywait` (Debian package inotify-tools) can be run. As root,
 * also makes room for a burst's events in the kernel's queue (two per
 * rename; the default holds 16384).
 */
export async function canCountRenames(): Promise<boolean> {
  try {
    const limit = "/proc/sys/fs/inotify/max_queued_events";
    if (Number(fs.readFileSync(limit, "utf8")) < 1 << 20) {
      fs.writeFileSync(limit, `${1 << 20}`);
    }
  } catch {
    // Not root: an overflow is detected and reported instead.
  }
  try {
    const child = spawn("inotifywait", ["--help"], { stdio: "ignore" });
    return await new Promise((resolve) => {
      child.on("error", () => resolve(false));
      child.on("exit", () => resolve(true));
    });
  } catch {
    return false;
  }
}

/**
 * Counts the renames onto `directory/name` made while `work` runs: every
 * atomic write ends in exactly one, so this is the number of actual file
 * writes. Watched from another process with inotify, so it works for every
 * library without instrumenting it. Both halves of each move are watched:
 * the kernel merges identical consecutive events, and IN_MOVED_TO events
 * onto one name with nothing between them would be merged (seen: 280 of
 * 1000 counted).
 */
export async function countRenamesOnto<T>(
  directory: string,
  name: string,
  work: () => Promise<T>,
): Promise<{ result: T; renames: number }> {
  const watcher = spawn("inotifywait", [
    "--monitor",
    "--event",
    "move",
    "--format",
    "%e %f",
    directory,
  ]);
  let renames = 0;
  let pending = "";
  let overflow = false;
  watcher.stdout.setEncoding("utf8");
  watcher.stdout.on("data", (text: string) => {
    const lines = (pending + text).split("\n");
    pending = lines.pop()!;
    for (const line of lines) {
      if (line === `MOVED_TO ${name}`) renames++;
      if (line.startsWith("Q_OVERFLOW")) overflow = true;
    }
  });
  const established = new Promise<void>((resolve, reject) => {
    watcher.on("error", reject);
    watcher.stderr.setEncoding("utf8");
    watcher.stderr.on("data", (text: string) => {
      if (text.includes("Watches established")) resolve();
      if (text.includes("overflow")) overflow = true;
    });
  });
  await established;
  const result = await work();
  // The kernel queues the events; give the watcher time to print the last.
  const exited = new Promise((resolve) => watcher.on("exit", resolve));
  await new Promise((resolve) => setTimeout(resolve, 300));
  watcher.kill();
  await exited;
  if (overflow) throw new Error("inotify queue overflowed: count unknown");
  return { result, renames };
}
