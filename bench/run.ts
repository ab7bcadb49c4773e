/**
 * Runs every workload in the current runtime (Deno, Bun or Node) and writes
 * the results as JSON; `bench/main.ts` runs this once per runtime and renders
 * `bench/RESULTS.md`.
 *
 *   deno run -A --v8-flags=--expose-gc bench/run.ts [--quick] [--json FILE]
 *   bun bench/run.ts [--quick] [--json FILE]
 *   node --expose-gc --import tsx bench/run.ts [--quick] [--json FILE]
 *
 * `--dir DIR` writes in DIR (default: the system's temp directory), so that
 * `bench/main.ts` can run the same workloads on another file system;
 * `--only small,many10` selects workloads.
 *
 * Each comparison runs its contenders interleaved in this one process, in
 * several rounds, and keeps the median per contender.
 */

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { writeFile, writeFileSync } from "../mod.ts";
import { detectRuntime } from "../src/runtime.ts";
import { alternatives, appendByRewrite } from "./_alternatives.ts";
import { baselines, type Durability } from "./_baselines.ts";
import {
  canCountRenames,
  collectGarbage,
  type Contender,
  countRenamesOnto,
  flushDirtyPages,
  interleave,
  median,
  peakGrowth,
} from "./_harness.ts";
import {
  type Cell,
  FLOOR,
  INLINE,
  OURS,
  OURS_COALESCED,
  PLAIN,
  type Row,
  type RuntimeResults,
} from "./_results.ts";

const args = (globalThis as unknown as { process: { argv: string[] } })
  .process.argv;
const quick = args.includes("--quick");
const jsonIndex = args.indexOf("--json");
const jsonPath = jsonIndex >= 0 ? args[jsonIndex + 1] : undefined;
const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : "";
const directory = args.includes("--dir")
  ? args[args.indexOf("--dir") + 1]
  : os.tmpdir();

const KiB = 1024;
const MiB = 1024 * KiB;
/**
 * Sequential small writes take turns this many at a time within a round
 * (`interleave`): a round's units of every contender then share one stretch
 * of time, so the disk's drifting fsync latency cancels out of the ratios.
 */
const SMALL_SLICE = 10;
const DURABILITIES: Durability[] = ["none", "file", "full"];
const scale = quick
  ? {
    rounds: 3,
    largeRounds: 3,
    streamRounds: 3,
    smallUnits: { none: 100, file: 30, full: 30 },
    largeSize: 16 * MiB,
    streamSize: 64 * MiB,
    burst: 1000,
    appendBase: 8 * MiB,
  }
  : {
    rounds: 5,
    // Fewer rounds for the large writes and the stream than before (9 and
    // 5), so that both file systems fit in 40 minutes; each round is one long
    // throughput-bound write, and RESULTS.md shows the spread of the rounds.
    largeRounds: 5,
    streamRounds: 3,
    smallUnits: { none: 1000, file: 400, full: 400 },
    largeSize: 256 * MiB,
    streamSize: 1024 * MiB,
    burst: 10_000,
    appendBase: 64 * MiB,
  };
const STREAM_CHUNK = MiB;

const runtime = detectRuntime();
const base = baselines();
const root = fs.mkdtempSync(path.join(directory, "atomic-write-bench-"));
const rows: Row[] = [];
const notes: string[] = [];
const durations: Record<string, number> = {};
let directoryCount = 0;

/** A fresh directory holding `name` with `bytes` in it. */
function freshTarget(bytes: Uint8Array, name = "target"): string {
  const directory = path.join(root, `d${directoryCount++}`);
  fs.mkdirSync(directory);
  const target = path.join(directory, name);
  fs.writeFileSync(target, bytes);
  return target;
}

function bytesOf(size: number, fill = 97): Uint8Array {
  return new Uint8Array(size).fill(fill);
}

/** A contender that writes `bytes` whole to its own target. */
type WholeWriter = (
  path: string,
  bytes: Uint8Array,
  durability: Durability,
) => Promise<unknown>;

function wholeWriters(durability: Durability): [string, WholeWriter][] {
  const writers: [string, WholeWriter][] = [
    [OURS, (target, bytes) => writeFile(target, bytes, { durability })],
    [INLINE, base.inlineWrite],
    [PLAIN, base.plainWrite],
  ];
  for (const alternative of alternatives) {
    if (alternative.durabilities.includes(durability)) {
      writers.push([alternative.name, alternative.write]);
    }
  }
  return writers;
}

function record(
  workload: string,
  durability: Durability,
  unit: string,
  cells: Record<string, Cell>,
  bytes?: number,
) {
  rows.push({ workload, durability, unit, cells, bytes });
  const summary = Object.entries(cells).map(([name, cell]) =>
    `${name} ${cell.milliseconds.toFixed(3)}`
  ).join(", ");
  console.error(`  ${workload} [${durability}] ms/${unit}: ${summary}`);
}

/** (slowest − fastest) ÷ median of the rounds. */
function spreadOf(samples: number[]): number {
  return (Math.max(...samples) - Math.min(...samples)) / median(samples);
}

function cellsOf(
  timings: { name: string; median: number; samples: number[] }[],
  size?: number,
): Record<string, Cell> {
  return Object.fromEntries(
    timings.map(({ name, median, samples }) => [name, {
      milliseconds: median,
      spread: spreadOf(samples),
      ...(size ? { mibPerSecond: size / MiB / (median / 1000) } : {}),
    }]),
  );
}

function wanted(id: string): boolean {
  return only === "" || only.split(",").includes(id);
}

/** Workloads 1 and 2: replace one file with `size` bytes, sequentially. */
async function replaceSequentially(
  workload: string,
  size: number,
  units: (durability: Durability) => number,
  rounds: number,
) {
  const bytes = bytesOf(size);
  for (const durability of DURABILITIES) {
    const contenders: Contender[] = wholeWriters(durability).map((
      [name, write],
    ) => {
      const target = freshTarget(bytes);
      return {
        name,
        run: () => write(target, bytes, durability),
        prepare: size >= MiB ? flushDirtyPages : undefined,
      };
    });
    // Small writes take turns 10 at a time (see `interleave`); large ones
    // are a unit each anyway.
    const timings = await interleave(
      contenders,
      rounds,
      units(durability),
      SMALL_SLICE,
    );
    const large = size >= MiB ? size : undefined;
    record(workload, durability, "write", cellsOf(timings, large), large);
    removeTargets();
  }
}

/** Workload 1b: the same small replace through the synchronous APIs. */
async function replaceSynchronously() {
  const bytes = bytesOf(KiB);
  for (const durability of DURABILITIES) {
    const writers: [string, typeof base.inlineWriteSync][] = [
      [OURS, (target, data) => writeFileSync(target, data, { durability })],
      [INLINE, base.inlineWriteSync],
    ];
    for (const alternative of alternatives) {
      if (
        alternative.writeSync && alternative.durabilities.includes(durability)
      ) {
        writers.push([alternative.name, alternative.writeSync]);
      }
    }
    const contenders = writers.map(([name, write]): Contender => {
      const target = freshTarget(bytes);
      return {
        name,
        run: () => Promise.resolve(write(target, bytes, durability)),
      };
    });
    const timings = await interleave(
      contenders,
      scale.rounds,
      scale.smallUnits[durability],
      SMALL_SLICE,
    );
    record(
      "1 KiB replace, synchronous API",
      durability,
      "write",
      cellsOf(timings),
    );
    removeTargets();
  }
}

/**
 * A stream of fresh 1 MiB chunks, as a real source produces them. With
 * `collectEvery`, a full garbage collection runs every that many chunks, so
 * that the peak memory shows what the writer holds rather than how long the
 * runtime leaves dead chunks uncollected (V8 waits for about 64 MiB of them).
 */
async function* chunksOf(
  total: number,
  collectEvery = 0,
): AsyncGenerator<Uint8Array> {
  for (let index = 0; index * STREAM_CHUNK < total; index++) {
    if (collectEvery && index % collectEvery === 0) collectGarbage();
    const chunk = new Uint8Array(
      Math.min(STREAM_CHUNK, total - index * STREAM_CHUNK),
    );
    chunk[0] = index;
    yield chunk;
  }
}

/**
 * Workload 3: a large stream. Throughput in timed rounds; peak memory in one
 * extra untimed pass per contender (at "none"), with garbage collected every
 * 8 chunks.
 */
async function stream() {
  const total = scale.streamSize;
  for (const durability of DURABILITIES) {
    type Streamer = (
      path: string,
      chunks: AsyncIterable<Uint8Array>,
      durability: Durability,
    ) => Promise<unknown>;
    const streamers: [string, Streamer][] = [
      [OURS, (target, chunks) => writeFile(target, chunks, { durability })],
      [INLINE, base.inlineStream],
      [PLAIN, base.plainStream],
    ];
    for (const alternative of alternatives) {
      if (
        alternative.stream && alternative.durabilities.includes(durability)
      ) {
        streamers.push([alternative.name, alternative.stream]);
      }
    }
    const targets = streamers.map(() => freshTarget(bytesOf(KiB)));
    const writeWhole = async (index: number, collectEvery = 0) => {
      const [name, write] = streamers[index];
      flushDirtyPages();
      const measured = await peakGrowth(() =>
        write(targets[index], chunksOf(total, collectEvery), durability)
      );
      if (fs.statSync(targets[index]).size !== total) {
        throw new Error(`${name} wrote a short stream`);
      }
      return measured;
    };
    const times = streamers.map(() => [] as number[]);
    for (let round = 0; round < scale.streamRounds; round++) {
      for (let step = 0; step < streamers.length; step++) {
        const index = (round + step) % streamers.length;
        times[index].push((await writeWhole(index)).milliseconds);
      }
    }
    const peaks: (number | undefined)[] = [];
    for (let index = 0; index < streamers.length; index++) {
      peaks.push(
        durability === "none"
          ? (await writeWhole(index, 8)).peakGrowthBytes / MiB
          : undefined,
      );
    }
    const cells = Object.fromEntries(streamers.map(([name], index) => {
      const milliseconds = median(times[index]);
      return [name, {
        milliseconds,
        spread: spreadOf(times[index]),
        mibPerSecond: total / MiB / (milliseconds / 1000),
        peakGrowthMiB: peaks[index],
      }];
    }));
    record(`${total / MiB} MiB stream`, durability, "stream", cells, total);
    removeTargets();
  }
}

/** Workload 4: a burst of concurrent writes to one path. */
async function burst() {
  const count = scale.burst;
  const countable = await canCountRenames();
  if (!countable) {
    notes.push(
      "File writes in the burst not counted: inotifywait is missing (apt-get install inotify-tools).",
    );
  }
  const payloads = Array.from(
    { length: count },
    (_, index) => new TextEncoder().encode(`write ${index} `.padEnd(64, ".")),
  );
  const last = new TextDecoder().decode(payloads[count - 1]);
  for (const durability of DURABILITIES) {
    const writers: [string, WholeWriter][] = [
      [
        OURS_COALESCED,
        (target, bytes) =>
          writeFile(target, bytes, { durability, coalesce: true }),
      ],
      [OURS, (target, bytes) => writeFile(target, bytes, { durability })],
    ];
    for (const alternative of alternatives) {
      if (alternative.durabilities.includes(durability)) {
        writers.push([alternative.name, alternative.write]);
      }
    }
    const rounds = durability === "none" ? 3 : 1;
    const times = writers.map(() => [] as number[]);
    const writes = writers.map(() => [] as number[]);
    const won = writers.map(() => true);
    const targets = writers.map(() => freshTarget(bytesOf(64)));
    // Untimed warm-up: no round pays for compiling a contender's code.
    for (const [index, [, write]] of writers.entries()) {
      await Promise.all(
        payloads.slice(0, 100).map((bytes) =>
          write(targets[index], bytes, durability)
        ),
      );
    }
    for (let round = 0; round < rounds; round++) {
      for (let step = 0; step < writers.length; step++) {
        const index = (round + step) % writers.length;
        const [, write] = writers[index];
        const target = targets[index];
        const settle = async () => {
          const start = performance.now();
          await Promise.all(
            payloads.map((bytes) => write(target, bytes, durability)),
          );
          return performance.now() - start;
        };
        if (countable) {
          const { result, renames } = await countRenamesOnto(
            path.dirname(target),
            path.basename(target),
            settle,
          );
          times[index].push(result);
          writes[index].push(renames);
        } else {
          times[index].push(await settle());
        }
        if (fs.readFileSync(target, "utf8") !== last) won[index] = false;
      }
    }
    const cells = Object.fromEntries(writers.map(([name], index) => [name, {
      milliseconds: median(times[index]),
      ...(countable ? { fileWrites: median(writes[index]) } : {}),
      lastWriteWon: won[index],
    }]));
    record(`burst of ${count} writes to one file`, durability, "burst", cells);
    removeTargets();
  }
}

/**
 * Workload 5: `perDirectory` different files in each of `directories`
 * directories, all written at once. At "full" the floor runs too: the
 * inline protocol without its directory fsyncs, the least that any sharing
 * of directory fsyncs can reach on this disk.
 */
async function manyFiles(
  workload: string,
  directories: number,
  perDirectory: number,
) {
  const bytes = bytesOf(KiB);
  const count = directories * perDirectory;
  for (const durability of DURABILITIES) {
    const writers = wholeWriters(durability);
    if (durability === "full") {
      writers.push([
        FLOOR,
        (target, data) => base.inlineWrite(target, data, "file"),
      ]);
    }
    const contenders = writers.map(([name, write]): Contender => {
      const folders = Array.from(
        { length: directories },
        () => path.dirname(freshTarget(bytes, "target-0")),
      );
      // Round-robin over the directories, so that all of them are busy at once.
      const targets = Array.from(
        { length: count },
        (_, index) =>
          path.join(
            folders[index % directories],
            `target-${Math.floor(index / directories)}`,
          ),
      );
      for (const target of targets) fs.writeFileSync(target, bytes);
      return {
        name,
        run: () =>
          Promise.all(
            targets.map((target) => write(target, bytes, durability)),
          ),
      };
    });
    // As many writes per round as the small replace makes (10 units of 100
    // files at "none"; 1 of 1000), so that both file systems fit in 40
    // minutes (twice that before).
    const units = Math.max(
      1,
      Math.round(scale.smallUnits[durability] / count),
    );
    const timings = await interleave(contenders, scale.rounds, units);
    record(workload, durability, `${count} writes`, cellsOf(timings));
    removeTargets();
  }
}

/** Workload 6: append 1 KiB to a large file. */
async function append() {
  const bytes = bytesOf(KiB, 98);
  const start = bytesOf(scale.appendBase);
  for (const durability of DURABILITIES) {
    const appenders: [string, WholeWriter][] = [
      [
        OURS,
        (target, data) => writeFile(target, data, { durability, append: true }),
      ],
      [INLINE, base.inlineAppend],
      [PLAIN, base.plainAppend],
    ];
    for (const alternative of alternatives) {
      if (alternative.durabilities.includes(durability)) {
        appenders.push([
          `${alternative.name}`,
          (target, data) =>
            appendByRewrite(alternative, target, data, durability),
        ]);
      }
    }
    const contenders = appenders.map(([name, write]): Contender => {
      const target = freshTarget(start);
      return {
        name,
        run: () => write(target, bytes, durability),
        prepare: flushDirtyPages,
      };
    });
    const timings = await interleave(contenders, scale.rounds, 4);
    record(
      `append 1 KiB to ${scale.appendBase / MiB} MiB`,
      durability,
      "append",
      cellsOf(timings),
    );
    removeTargets();
  }
  notes.push(
    'Append: the npm packages have no append, so their rows read the whole file and write it back atomically; "plain write" appends in place.',
  );
}

function removeTargets() {
  for (const entry of fs.readdirSync(root)) {
    fs.rmSync(path.join(root, entry), { recursive: true, force: true });
  }
}

function runtimeVersion(): string {
  const globals = globalThis as {
    Deno?: { version: { deno: string } };
    Bun?: { version: string };
    process?: { version: string };
  };
  if (globals.Deno) return `Deno ${globals.Deno.version.deno}`;
  if (globals.Bun) return `Bun ${globals.Bun.version}`;
  return `Node ${globals.process!.version.slice(1)}`;
}

/** Every workload with its id for --only, in running order. */
const WORKLOADS: [string, () => Promise<void>][] = [
  ["small", () =>
    replaceSequentially(
      "1 KiB replace",
      KiB,
      (durability) => scale.smallUnits[durability],
      scale.rounds,
    )],
  ["sync", replaceSynchronously],
  ["1mib", () =>
    replaceSequentially(
      "1 MiB replace",
      MiB,
      (durability) => durability === "none" ? 40 : 20,
      scale.rounds,
    )],
  ["large", () =>
    replaceSequentially(
      `${scale.largeSize / MiB} MiB replace`,
      scale.largeSize,
      () => 1,
      scale.largeRounds,
    )],
  ["stream", stream],
  ["burst", burst],
  ["many", () => manyFiles("100 files at once, 1 KiB each", 1, 100)],
  [
    "many10",
    () =>
      manyFiles("1000 files at once in 10 directories, 1 KiB each", 10, 100),
  ],
  ["append", append],
];

try {
  console.error(
    `${runtimeVersion()}${quick ? " (quick)" : ""}, writing in ${root}`,
  );
  for (const [id, run] of WORKLOADS) {
    if (!wanted(id)) continue;
    const start = performance.now();
    await run();
    durations[id] = Math.round((performance.now() - start) / 100) / 10;
    console.error(`  (${id}: ${durations[id]} s)`);
  }
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}

const results: RuntimeResults = {
  runtime,
  version: runtimeVersion(),
  quick,
  rounds:
    `${scale.rounds} rounds (${scale.largeRounds} for the large writes, ${scale.streamRounds} for the stream; the burst 3 at "none", 1 otherwise; within a round the sequential 1 KiB writes take turns ${SMALL_SLICE} at a time)`,
  rows,
  notes,
  durations,
};
if (jsonPath) fs.writeFileSync(jsonPath, JSON.stringify(results, null, 2));
