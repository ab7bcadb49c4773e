/**
 * Issue 13 part 4: where the time of a large atomic replace goes, next to a
 * plain in-place write, step by step. Not part of `deno task bench`.
 *
 *   deno run -A bench/large_profile.ts [options]
 *   bun bench/large_profile.ts [options]
 *   node --import tsx bench/large_profile.ts [options]
 *
 * Options: `--size MiB` (1024), `--rounds N` (5), `--durability none,file`
 * (all three), `--dir DIR` (the temp directory), `--memory cold|warm|bench`
 * (see `settle`), `--no-steps`, `--no-async`.
 *
 * Two parts, each interleaved in this one process, medians:
 *
 * 1. Steps: the kernel calls of a plain write (open with O_TRUNC, write,
 *    fsync, close), of the inline protocol (create, write, fsync, close,
 *    rename) and of the inline protocol that holds the replaced file open
 *    across the rename (whose close then frees the old blocks), each timed
 *    alone, with the synchronous `node:fs` calls in 1 MiB chunks.
 * 2. The bench's contenders (async, 1 MiB chunks of a stream): this library,
 *    the inline protocol and the plain write of `bench/_baselines.ts`.
 */

import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { writeFile } from "../mod.ts";
import { baselines, type Durability } from "./_baselines.ts";
import { median, option } from "./_harness.ts";
import { detectRuntime } from "../src/runtime.ts";

const MiB = 1024 * 1024;
const args = process.argv.slice(2);
const SIZE = Number(option("--size", "1024")) * MiB;
const ROUNDS = Number(option("--rounds", "5"));
const DURABILITIES = option("--durability", "none,file,full")
  .split(",") as Durability[];
const MEMORY = option("--memory", "bench");
const root = fs.mkdtempSync(
  path.join(option("--dir", os.tmpdir()), "aw-large-"),
);
const chunk = new Uint8Array(MiB).fill(0x61);

const sleeper = new Int32Array(new SharedArrayBuffer(4));
const sleep = (milliseconds: number) =>
  Atomics.wait(sleeper, 0, 0, milliseconds);

/**
 * Untimed, before every timed run. "bench": `sync`, as bench/run.ts does.
 * "cold": `sync`, then 4 s idle: memory freed before is then handed back to
 * the host (virtio-balloon free page reporting, 2 s after the free) and
 * costs a host fault at its next use. "warm": `sync`, then a scratch file of
 * the same size written and deleted, so that the run starts with that much
 * memory freed just now.
 */
function settle() {
  spawnSync("sync");
  if (MEMORY === "cold") sleep(4000);
  if (MEMORY === "warm") {
    const scratch = path.join(root, "scratch");
    fillFile(scratch, "w");
    spawnSync("sync");
    fs.rmSync(scratch);
  }
}

function fillFile(file: string, flags: string) {
  const fd = fs.openSync(file, flags);
  for (let at = 0; at < SIZE; at += MiB) fs.writeSync(fd, chunk);
  fs.closeSync(fd);
}

type Steps = Record<string, number>;

/** Times `action` into `steps[name]`. */
function timed<T>(steps: Steps, name: string, action: () => T): T {
  const start = performance.now();
  const value = action();
  steps[name] = performance.now() - start;
  return value;
}

function writeAll(fd: number) {
  for (let at = 0; at < SIZE; at += MiB) fs.writeSync(fd, chunk);
}

function plainSteps(target: string, durability: Durability): Steps {
  const steps: Steps = {};
  const fd = timed(steps, "open (O_TRUNC)", () => fs.openSync(target, "w"));
  timed(steps, "write", () => writeAll(fd));
  if (durability !== "none") timed(steps, "fsync", () => fs.fsyncSync(fd));
  timed(steps, "close", () => fs.closeSync(fd));
  return steps;
}

function inlineSteps(
  target: string,
  durability: Durability,
  holdOld: boolean,
): Steps {
  const steps: Steps = {};
  const temp = `${target}.tmp`;
  const fd = timed(steps, "create", () => fs.openSync(temp, "wx"));
  timed(steps, "write", () => writeAll(fd));
  if (durability !== "none") timed(steps, "fsync", () => fs.fsyncSync(fd));
  timed(steps, "close", () => fs.closeSync(fd));
  const old = holdOld ? fs.openSync(target, "r") : undefined;
  timed(steps, "rename", () => fs.renameSync(temp, target));
  if (old !== undefined) {
    timed(steps, "close old (off the path)", () => fs.closeSync(old));
  }
  if (durability === "full") {
    timed(steps, "fsync dir", () => {
      const directory = fs.openSync(path.dirname(target), "r");
      fs.fsyncSync(directory);
      fs.closeSync(directory);
    });
  }
  return steps;
}

function formatSteps(all: Steps[]): string {
  const names = Object.keys(all[0]);
  const parts = names.map((name) =>
    `${name} ${median(all.map((steps) => steps[name])).toFixed(0)}`
  );
  const totals = all.map((steps) =>
    Object.entries(steps).reduce(
      (sum, [name, ms]) => name.includes("off the path") ? sum : sum + ms,
      0,
    )
  );
  return `${median(totals).toFixed(0).padStart(5)} ms | ${parts.join(", ")}`;
}

function profileSteps(durability: Durability) {
  const contenders: [string, (target: string) => Steps][] = [
    ["plain write", (target) => plainSteps(target, durability)],
    ["inline protocol", (target) => inlineSteps(target, durability, false)],
    ["inline, old held", (target) => inlineSteps(target, durability, true)],
  ];
  const targets = contenders.map((_, index) => {
    const target = path.join(root, `steps-${index}`);
    fillFile(target, "w");
    return target;
  });
  const samples = contenders.map(() => [] as Steps[]);
  for (let round = 0; round < ROUNDS; round++) {
    for (let step = 0; step < contenders.length; step++) {
      const index = (round + step) % contenders.length;
      settle();
      samples[index].push(contenders[index][1](targets[index]));
    }
  }
  console.log(`\nsteps, synchronous node:fs, "${durability}" (medians, ms):`);
  for (const [index, [name]] of contenders.entries()) {
    console.log(`  ${name.padEnd(17)} ${formatSteps(samples[index])}`);
  }
  for (const target of targets) fs.rmSync(target);
}

async function* chunks(): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < SIZE; at += MiB) {
    const fresh = new Uint8Array(Math.min(MiB, SIZE - at));
    fresh[0] = at / MiB;
    yield fresh;
  }
}

async function profileAsync(durability: Durability) {
  const base = baselines();
  const contenders: [string, (target: string) => Promise<unknown>][] = [
    ["atomic-write", (target) => writeFile(target, chunks(), { durability })],
    [
      "inline protocol",
      (target) => base.inlineStream(target, chunks(), durability),
    ],
    ["plain write", (target) => base.plainStream(target, chunks(), durability)],
  ];
  const targets = contenders.map((_, index) => {
    const target = path.join(root, `async-${index}`);
    fillFile(target, "w");
    return target;
  });
  const times = contenders.map(() => [] as number[]);
  for (let round = 0; round < ROUNDS; round++) {
    for (let step = 0; step < contenders.length; step++) {
      const index = (round + step) % contenders.length;
      settle();
      const start = performance.now();
      await contenders[index][1](targets[index]);
      times[index].push(performance.now() - start);
    }
  }
  const plain = median(times[2]);
  console.log(`\nasync stream, "${durability}" (medians):`);
  for (const [index, [name]] of contenders.entries()) {
    const ms = median(times[index]);
    console.log(
      `  ${name.padEnd(17)} ${ms.toFixed(0).padStart(5)} ms  plain ÷ this ${
        (plain / ms).toFixed(2)
      }x  [${times[index].map((t) => t.toFixed(0)).join(" ")}]`,
    );
  }
  for (const target of targets) fs.rmSync(target);
}

const runtime = detectRuntime();
const fsType = execFileSync("stat", ["-f", "-c", "%T", root], {
  encoding: "utf8",
}).trim();
console.log(
  `${runtime}, ${
    SIZE / MiB
  } MiB, ${ROUNDS} rounds, memory "${MEMORY}", ${fsType} (${root})`,
);
try {
  for (const durability of DURABILITIES) {
    if (!args.includes("--no-steps")) profileSteps(durability);
    if (!args.includes("--no-async")) await profileAsync(durability);
  }
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
