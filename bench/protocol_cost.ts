/**
 * Issue 13 part 2, the synchronous small write: what this library's own
 * JavaScript costs between its system calls. Sequential 1 KiB replaces
 * through `writeFileSync`, in blocks taking turns, medians of 15 rounds:
 *
 * - the library, over the runtime's backend;
 * - the protocol alone: the same calls over a backend that replays what the
 *   real one returned the first time, making no system call;
 * - the backend's primitives called directly, in the protocol's order
 *   (realPath, stat, createTemp, statHandle, write, [sync], close, rename,
 *   [syncDirectory]), with no protocol around them;
 * - those direct calls plus a busy loop as long as the protocol alone took;
 * - the bare inline protocol of `bench/_baselines.ts` (exclusive create,
 *   write, [fsync], close, rename, [directory fsync]), with and without one
 *   stat of its target first.
 *
 * The library minus the direct calls is what the protocol costs where it
 * runs, between real system calls; the last row shows what as much plain
 * CPU time costs there. In the runs of 2026-12-01 17:25-17:35 UTC at "none"
 * the protocol alone took 6-16 µs per write, yet added 11-40 µs to its
 * calls: 1.3-3.6x its own length (Deno, Bun, Node; ext4 and the xfs image),
 * where a plain loop added 1.1-1.6x its length. On this machine (a PVM guest
 * with page-table isolation and no PCID) every system call throws away the
 * address translations, and each 4 KiB page touched after one costs ~3 ns
 * more (`bench/syscall_pages.c`): code that runs between system calls costs
 * more than alone, and the protocol's many small functions (likely touching
 * more pages) more than a tight loop.
 *
 * The last line splits the library's distance to the inline protocol into
 * what one stat does to the write (on the bench's xfs image, a host-disk
 * write per fsync: see `bench/image_timestamps.ts`), what its other extra
 * calls cost (realpath, fstat, the backend's wrappers) and the protocol. At
 * "full" on the xfs image those parts swung by ±150 µs from run to run on
 * 2026-12-01 (the busy loop's share from -95 to +198 µs), while the total
 * stayed at 1.17-1.46x: read the parts at "none" or "file".
 *
 *   deno run -A bench/protocol_cost.ts [--dir DIR] [--durability none|file|full] [--block N]
 *   bun bench/protocol_cost.ts [...]
 *   node --import tsx bench/protocol_cost.ts [...]
 *
 * Each row gives the wall time and the process's user CPU time per write.
 * Defaults: the temp directory, "none", blocks of 200 writes. Not part of
 * `deno task bench`.
 */

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { createAtomicWrite } from "../src/_api.ts";
import type { Backend, Primitives } from "../src/_backend.ts";
import { tempName } from "../src/_path.ts";
import { createBunBackend } from "../src/backends/bun.ts";
import { createDenoBackend } from "../src/backends/deno.ts";
import { createNodeBackend } from "../src/backends/node.ts";
import type { Durability } from "../src/options.ts";
import { detectRuntime } from "../src/runtime.ts";
import { baselines } from "./_baselines.ts";
import { median, option } from "./_harness.ts";

const durability = option("--durability", "none") as Durability;
const BLOCK = Number(option("--block", "200"));
const ROUNDS = 15;

const runtime = detectRuntime();
const backend =
  (runtime === "deno"
    ? createDenoBackend()
    : runtime === "bun"
    ? createBunBackend()
    : createNodeBackend()) as unknown as Backend;
const real = backend.sync!;
const directory = fs.realpathSync(
  fs.mkdtempSync(path.join(option("--dir", os.tmpdir()), "aw-protocol-cost-")),
);
const bytes = new Uint8Array(1024).fill(97);

/** A backend whose every primitive returns what `real` returned once. */
function replayBackend(target: string): Backend {
  const first = new Map<string, unknown>();
  const recording = Object.fromEntries(
    Object.entries(real).map(([name, primitive]) => [
      name,
      (...args: unknown[]) => {
        const value = (primitive as (...a: unknown[]) => unknown)(...args);
        if (!first.has(name)) first.set(name, value);
        return value;
      },
    ]),
  ) as unknown as Primitives<unknown>;
  createAtomicWrite(() => ({ ...backend, sync: recording }))
    .writeFileSync(target, bytes, { durability });
  const replaying = Object.fromEntries(
    Object.keys(real).map((name) => [name, () => first.get(name)]),
  ) as unknown as Primitives<unknown>;
  replaying.write = (_handle, data) => data.length;
  return { ...backend, sync: replaying };
}

/** The protocol's primitive calls for one replace, made directly. */
function directCalls(target: string): () => void {
  const name = path.basename(target);
  const owner = backend.capabilities.tempOwner?.();
  return () => {
    real.realPath(target);
    const info = real.stat(target);
    const temp = path.join(directory, tempName(name, owner));
    const handle = real.createTemp(temp, { mode: 0o644, target });
    real.statHandle(handle);
    real.write(handle, bytes);
    if (durability !== "none") real.sync(handle);
    real.close(handle);
    real.rename(temp, target, info?.size);
    if (durability === "full") real.syncDirectory(directory);
  };
}

function spin(microseconds: number): void {
  const until = performance.now() + microseconds / 1000;
  while (performance.now() < until) { /* the CPU time under test */ }
}

/** µs per write of `run` over one block: wall time and user CPU time. */
function block(run: () => void): { wall: number; user: number } {
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let write = 0; write < BLOCK; write++) run();
  return {
    wall: (performance.now() - start) * 1000 / BLOCK,
    user: process.cpuUsage(cpu).user / BLOCK,
  };
}

try {
  const targetOf = (name: string) => {
    const target = path.join(directory, name);
    fs.writeFileSync(target, bytes);
    return target;
  };
  const library = createAtomicWrite(() => backend);
  const libraryTarget = targetOf("library");
  const alone = createAtomicWrite(() => replayBackend(targetOf("alone")));
  const aloneTarget = path.join(directory, "alone");
  const runAlone = () =>
    alone.writeFileSync(aloneTarget, bytes, { durability });
  // Warm up, then measure how long the protocol alone takes, for the loop
  // (it keeps getting faster for a while: the output gives both lengths).
  for (let round = 0; round < 20; round++) block(runAlone);
  const loop = median(Array.from({ length: 5 }, () => block(runAlone).wall));
  const direct = directCalls(targetOf("direct"));
  const directSpin = directCalls(targetOf("spin"));
  const base = baselines();
  const inlineTarget = targetOf("inline");
  const statTarget = targetOf("inline-stat");
  const contenders: [string, () => void][] = [
    [
      "this library's writeFileSync",
      () => library.writeFileSync(libraryTarget, bytes, { durability }),
    ],
    ["the protocol alone (no syscalls)", runAlone],
    ["its primitives called directly", direct],
    [`the direct calls + a ${loop.toFixed(0)} µs loop`, () => {
      spin(loop);
      directSpin();
    }],
    ["the inline protocol", () => {
      base.inlineWriteSync(inlineTarget, bytes, durability);
    }],
    ["the inline protocol + a stat", () => {
      real.stat(statTarget);
      base.inlineWriteSync(statTarget, bytes, durability);
    }],
  ];
  const times = contenders.map(() => [] as number[]);
  const userTimes = contenders.map(() => [] as number[]);
  for (let round = 0; round < ROUNDS; round++) {
    for (let step = 0; step < contenders.length; step++) {
      const index = (round + step) % contenders.length;
      const { wall, user } = block(contenders[index][1]);
      times[index].push(wall);
      userTimes[index].push(user);
    }
  }
  const [ours, protocol, calls, spun, inline, inlineStat] = times.map(median);
  console.log(
    `${runtime}, 1 KiB writeFileSync at "${durability}" in ${directory}, blocks of ${BLOCK}, medians of ${ROUNDS} rounds:`,
  );
  contenders.forEach(([name], index) => {
    console.log(
      `  ${name.padEnd(36)} ${
        median(times[index]).toFixed(1).padStart(7)
      } µs, user CPU ${median(userTimes[index]).toFixed(1).padStart(6)} µs`,
    );
  });
  const added = ours - calls;
  const loopAdded = spun - calls;
  console.log(
    `  the protocol adds ${added.toFixed(1)} µs to its calls, ${
      (added / protocol).toFixed(1)
    }x its ${protocol.toFixed(1)} µs alone; the loop adds ${
      loopAdded.toFixed(1)
    } µs, ${(loopAdded / loop).toFixed(1)}x its ${loop.toFixed(1)} µs`,
  );
  const sign = (value: number) => `${value >= 0 ? "+" : ""}${value.toFixed(1)}`;
  console.log(
    `  the library ÷ the inline protocol: ${(ours / inline).toFixed(2)}x, ${
      sign(ours - inline)
    } µs = a stat ${sign(inlineStat - inline)} + the other extra calls ${
      sign(calls - inlineStat)
    } + the protocol ${sign(ours - calls)}`,
  );
} finally {
  fs.rmSync(directory, { recursive: true, force: true });
}
