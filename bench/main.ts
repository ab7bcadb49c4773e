/**
 * `deno task bench` (through `bench/bench.sh`): runs `bench/run.ts` in Deno,
 * Bun and Node, one runtime after the other (never at the same time: they
 * would share the disk), on the system's temp directory (ext4 here) and on a
 * fresh loop-mounted xfs image, and writes `bench/RESULTS.md`,
 * `bench/results.json`, `bench/chart.svg` and the README's summary.
 *
 *   deno task bench                      # everything, both file systems
 *   deno task bench --quick              # smaller sizes and fewer rounds
 *   deno task bench --runtimes bun,node  # a subset of the runtimes
 *   deno task bench --only small,many10  # a subset of the workloads
 *   deno task bench --fs xfs             # one file system: tmp or xfs
 *   deno task bench --render             # RESULTS.md, README, chart from results.json
 *
 * Workload ids for --only: small, sync, 1mib, large, stream, burst, many,
 * many10, append. The xfs run needs root and mkfs.xfs; without them it is
 * skipped and RESULTS.md says why. A quick or partial run (--only,
 * --runtimes, --fs) prints its tables but leaves the files alone unless
 * --write is given; then a partial run's rows replace the same rows (same
 * runtime, file system, workload and durability) of bench/results.json, and
 * RESULTS.md says which were re-run.
 * OPFS rows come from `bench/opfs_results.json` (written by `bench/opfs.ts`)
 * where it exists. The README's part sits between the markers
 * `<!-- bench:start -->` and `<!-- bench:end -->`.
 */

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { renderChart } from "./_chart.ts";
import { describeFileSystem, mountXfs, xfsUnavailable } from "./_mount.ts";
import { renderOpfs, renderRuntime, renderSummary } from "./_report.ts";
import {
  filesystemLabel,
  type OpfsRow,
  type RuntimeResults,
} from "./_results.ts";

const args = Deno.args;
const option = (name: string) => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
};
const quick = args.includes("--quick");
const only = option("--only");
const selected = (option("--runtimes") ?? "deno,bun,node").split(",");
const filesystems = (option("--fs") ?? "tmp,xfs").split(",");
const render = args.includes("--render");
const partial = only !== undefined || option("--runtimes") !== undefined ||
  option("--fs") !== undefined;
// Quick and partial runs only print, unless told to write.
const write = !render && ((!partial && !quick) || args.includes("--write"));

const root = path.resolve(import.meta.dirname!, "..");
const bin = path.join(root, "node_modules", ".bin");
const env = { ...Deno.env.toObject(), PATH: `${bin}:${Deno.env.get("PATH")}` };
const resultsFile = path.join(root, "bench", "results.json");
const opfsFile = path.join(root, "bench", "opfs_results.json");

const RUNNERS: Record<string, string[]> = {
  deno: ["deno", "run", "-A", "--v8-flags=--expose-gc", "bench/run.ts"],
  bun: ["bun", "bench/run.ts"],
  node: ["node", "--expose-gc", "--import", "tsx", "bench/run.ts"],
};
const RUNTIME_ORDER = ["deno", "bun", "node"];

interface Machine {
  date: string;
  machine: string;
  runtimes: string;
  alternatives: string;
  /** Why a file system was not measured, by --fs id. */
  skipped?: Record<string, string>;
  remeasured?: string;
  /** Wall time of the last full run. */
  duration?: string;
}

function packageVersion(name: string): string {
  const file = path.join(root, "node_modules", name, "package.json");
  return JSON.parse(fs.readFileSync(file, "utf8")).version;
}

function now(): string {
  return `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

// A signal stops the running child and unwinds, so the xfs image is
// unmounted on the way out.
let child: ChildProcess | undefined;
let interrupted = false;
const onSignal = () => {
  interrupted = true;
  child?.kill("SIGTERM");
};
const SIGNALS = ["SIGINT", "SIGTERM"] as const;

/** Runs bench/run.ts in one runtime, writing in `directory`. */
async function runIn(
  runtime: string,
  directory: string,
): Promise<RuntimeResults> {
  const command = RUNNERS[runtime];
  if (!command) throw new Error(`Unknown runtime "${runtime}"`);
  if (interrupted) throw new Error("Interrupted");
  const json = path.join(os.tmpdir(), `atomic-write-bench-${runtime}.json`);
  const runArgs = [...command.slice(1), "--json", json, "--dir", directory];
  if (quick) runArgs.push("--quick");
  if (only) runArgs.push("--only", only);
  console.error(`\n== ${runtime}: ${command[0]} ${runArgs.join(" ")}`);
  // 1000 writes at once hold more descriptors than a default soft limit of
  // 1024 allows: raise it to the hard limit, for every contender alike.
  child = spawn(
    "sh",
    [
      "-c",
      'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"',
      "sh",
      ...command.slice(0, 1),
      ...runArgs,
    ],
    { cwd: root, env, stdio: "inherit" },
  );
  const status = await new Promise<number | null>((resolve, reject) => {
    child!.on("error", reject);
    child!.on("exit", (code) => resolve(code));
  });
  child = undefined;
  if (interrupted) throw new Error("Interrupted");
  if (status !== 0) {
    throw new Error(`The ${runtime} benchmark failed (exit ${status})`);
  }
  const result = JSON.parse(fs.readFileSync(json, "utf8"));
  fs.rmSync(json);
  return result;
}

/** Every selected runtime on every selected file system. */
async function measure(): Promise<{
  results: RuntimeResults[];
  skipped: Record<string, string>;
}> {
  const results: RuntimeResults[] = [];
  const skipped: Record<string, string> = {};
  for (const id of filesystems) {
    if (id === "tmp") {
      const filesystem = describeFileSystem(os.tmpdir());
      for (const runtime of selected) {
        const result = await runIn(runtime, os.tmpdir());
        results.push({ ...result, filesystem });
      }
    } else if (id === "xfs") {
      const why = xfsUnavailable();
      if (why) {
        skipped[id] = why;
        console.error(`\n== xfs: skipped: ${why}`);
        continue;
      }
      let image;
      try {
        image = mountXfs();
      } catch (error) {
        // The other file system's results are still worth writing.
        skipped[id] = `the loop mount failed: ${String(error).split("\n")[0]}`;
        console.error(`\n== xfs: skipped: ${skipped[id]}`);
        continue;
      }
      try {
        const filesystem = { ...image.describe(), label: "xfs" };
        for (const runtime of selected) {
          const result = await runIn(runtime, image.mount);
          results.push({ ...result, filesystem });
        }
      } finally {
        image.destroy();
      }
    } else {
      throw new Error(`Unknown file system "${id}": use tmp or xfs`);
    }
  }
  return { results, skipped };
}

const key = (result: RuntimeResults) =>
  `${result.runtime} ${filesystemLabel(result)}`;

/** Re-measured rows replace the same rows of the last full run. */
function merge(
  last: { machine: Machine; results: RuntimeResults[] },
  fresh: RuntimeResults[],
  skipped: Record<string, string>,
): { machine: Machine; results: RuntimeResults[] } {
  const merged = last.results;
  const remeasured: string[] = [];
  for (const run of fresh) {
    const old = merged.find((entry) => key(entry) === key(run));
    if (!old) {
      merged.push(run);
      remeasured.push(`${run.version} on ${filesystemLabel(run)}, all rows`);
      continue;
    }
    old.filesystem = run.filesystem;
    old.durations = { ...old.durations, ...run.durations };
    for (const row of run.rows) {
      const index = old.rows.findIndex((entry) =>
        entry.workload === row.workload && entry.durability === row.durability
      );
      if (index >= 0) old.rows[index] = row;
      else old.rows.push(row);
      remeasured.push(
        `${run.version} on ${
          filesystemLabel(run)
        } ${row.workload} [${row.durability}]`,
      );
    }
  }
  const stillSkipped = Object.fromEntries(
    Object.entries(last.machine.skipped ?? {}).filter(([id]) =>
      !filesystems.includes(id)
    ),
  );
  return {
    machine: {
      ...last.machine,
      skipped: { ...stillSkipped, ...skipped },
      remeasured: [
        ...(last.machine.remeasured ? [last.machine.remeasured] : []),
        `${now()}: ${remeasured.join(", ")}`,
      ].join("; "),
    },
    results: merged,
  };
}

function readOpfs(): OpfsRow[] | undefined {
  if (!fs.existsSync(opfsFile)) return undefined;
  const rows = JSON.parse(fs.readFileSync(opfsFile, "utf8"));
  if (!Array.isArray(rows)) {
    throw new Error(`${opfsFile} must hold an array of OPFS rows`);
  }
  return rows;
}

/** Deno, Bun, Node; within each, the file systems in the order measured. */
function ordered(results: RuntimeResults[]): RuntimeResults[] {
  const labels = [...new Set(results.map(filesystemLabel))];
  const rank = (result: RuntimeResults) =>
    RUNTIME_ORDER.indexOf(result.runtime) * 100 +
    labels.indexOf(filesystemLabel(result));
  return [...results].sort((a, b) => rank(a) - rank(b));
}

function renderResults(
  machine: Machine,
  results: RuntimeResults[],
  opfs: OpfsRow[] | undefined,
): string {
  const labels = [...new Set(results.map(filesystemLabel))];
  const skipped = Object.entries(machine.skipped ?? {});
  return [
    "# Benchmark results",
    "",
    "Written by `deno task bench` (`bench/main.ts`); do not edit by hand.",
    "",
    `- Date: ${machine.date}`,
    `- Machine: ${machine.machine}`,
    `- Runtimes: ${machine.runtimes}`,
    `- Alternatives: ${machine.alternatives}`,
    ...labels.map((label) => {
      const filesystem = results.find((result) =>
        filesystemLabel(result) === label
      )?.filesystem;
      return `- File system ${label}: ${
        filesystem
          ? `\`${filesystem.directory}\`, ${filesystem.type} (${filesystem.options}) on ${filesystem.source}`
          : "the system's temp directory (not recorded)"
      }`;
    }),
    ...skipped.map(([id, why]) => `- File system ${id}: skipped: ${why}`),
    ...(machine.duration ? [`- Wall time: ${machine.duration}`] : []),
    ...(machine.remeasured
      ? [`- Rows re-measured: ${machine.remeasured}`]
      : []),
    "",
    "Every comparison runs its contenders interleaved in one process, in",
    "several rounds, and reports medians; compare ratios, not absolute times",
    "(this is a shared machine). Durability: `none` = no fsync, `file` = fsync",
    "of the file, `full` = fsync of the file and of its directory. A contender",
    'that cannot offer a level is left out of that row (—). "inline protocol"',
    "is the bare protocol written inline with the runtime's async calls (no",
    'mode, owner or symlink handling, no queue); "floor" is the same without',
    "the directory fsync (the file fsync kept), in the concurrent rows at",
    "`full`: what sharing directory fsyncs can reach at best on that disk;",
    '"plain write" writes the target in place (not atomic).',
    "",
    "Each runtime runs on the system's temp directory and on a fresh xfs",
    "image, loop-mounted for the run (an image file on the same disk, so its",
    "absolute times are not a real xfs disk's; the point is how xfs orders",
    "and merges fsyncs: ext4's journal already merges concurrent ones).",
    "On the image, a contender that stats its target (atomic-write,",
    "write-file-atomic, atomically) pays one more host-disk write per",
    "durable write, which a real xfs disk would not: Linux 6.13+ timestamps",
    "and the image file's mtime (`bench/image_timestamps.ts`).",
    "To fit both file systems in 40 minutes, the large replace runs 5 rounds",
    "(9 before) and the 1 GiB stream 3 (5 before); the spread under each",
    "runtime shows how far apart the rounds were.",
    "",
    "Targets are issue 13's (parts 1 to 4; they replace issue 5's",
    '"≤ 0.8x the fastest npm package everywhere" and "large writes ≥ 0.9x',
    "plain at file and full\") and, where issue 13 sets none, issue 5's.",
    "",
    "## Targets of issue 13",
    "",
    renderSummary(results, opfs),
    "",
    "✓ met, ✗ missed; each cell is the worst ratio of that target's rows.",
    "n/a: the floor leaves no room for ≤ 0.9x the inline protocol",
    "(floor ÷ inline above 0.9 ÷ 1.05); the cell shows ours ÷ inline. For",
    "the append, n/a means the file system cannot clone (ext4): the append",
    "copies the old content, as issue 13 asks there.",
    "",
    ...labels.flatMap((label) => [
      `## ${label}`,
      "",
      ...results.filter((result) => filesystemLabel(result) === label)
        .flatMap((result) => [renderRuntime(result), ""]),
    ]),
    ...(opfs?.length
      ? [
        "## OPFS",
        "",
        "From `bench/opfs_results.json`, written by `bench/opfs.ts`",
        "(`node --import tsx bench/opfs.ts`): medians of an atomic `writeFile`",
        "against a plain `createWritable()` save of the same file. Targets",
        "(issue 13 part 5): 1 KiB ≤ 1.3x in Chromium and Firefox, ≤ 1.5x in",
        "WebKit; 64 MiB ≥ 0.9x the plain throughput (≤ 1.11x the time).",
        "",
        renderOpfs(opfs),
        "",
      ]
      : []),
  ].join("\n");
}

/**
 * When the results were measured: the full run's date, and the last partial
 * run's when some rows were re-measured since (RESULTS.md lists which).
 */
function measuredWhen(machine: Machine): string {
  const later = machine.remeasured?.match(/\d{4}-\d\d-\d\d \d\d:\d\d UTC/g);
  return later?.length
    ? `${machine.date}, rows re-measured up to ${later.at(-1)}`
    : machine.date;
}

function renderReadme(
  machine: Machine,
  results: RuntimeResults[],
  opfs: OpfsRow[] | undefined,
): string {
  return [
    "<!-- bench:start -->",
    "",
    `${measuredWhen(machine)}, ${machine.machine}.`,
    "",
    renderSummary(results, opfs),
    "",
    "![Ratios per runtime and file system against the targets](bench/chart.svg)",
    "",
  ].join("\n");
}

let machine: Machine;
let results: RuntimeResults[];
const started = performance.now();
if (render) {
  ({ machine, results } = JSON.parse(fs.readFileSync(resultsFile, "utf8")));
} else {
  for (const signal of SIGNALS) Deno.addSignalListener(signal, onSignal);
  let measured;
  try {
    measured = await measure();
  } finally {
    for (const signal of SIGNALS) Deno.removeSignalListener(signal, onSignal);
  }
  const cpus = os.cpus();
  const minutes = (performance.now() - started) / 60_000;
  machine = {
    date: now(),
    machine: `${cpus.length} × ${cpus[0]?.model ?? "unknown CPU"}, ${
      (os.totalmem() / 2 ** 30).toFixed(0)
    } GiB RAM, Linux ${os.release()}`,
    runtimes: [...new Set(measured.results.map((r) => r.version))].join(", "),
    alternatives: [
      "write-file-atomic",
      "atomically",
      "steno",
      "fast-write-atomic",
    ].map((name) => `${name} ${packageVersion(name)}`).join(", "),
    skipped: measured.skipped,
    duration: `${minutes.toFixed(1)} minutes${quick ? " (quick)" : ""}`,
  };
  results = measured.results;
  if (partial && write) {
    ({ machine, results } = merge(
      JSON.parse(fs.readFileSync(resultsFile, "utf8")),
      results,
      measured.skipped,
    ));
  }
}
results = ordered(results);
const opfs = readOpfs();
const report = renderResults(machine, results, opfs);
console.log(report);
if (write || render) {
  const resultsMd = path.join(root, "bench", "RESULTS.md");
  const chart = path.join(root, "bench", "chart.svg");
  fs.writeFileSync(resultsMd, report);
  fs.writeFileSync(
    resultsFile,
    JSON.stringify({ machine, results }, null, 1) + "\n",
  );
  fs.writeFileSync(
    chart,
    renderChart(
      results,
      opfs,
      // The machine is in RESULTS.md: the caption must fit the chart's width.
      `${measuredWhen(machine)}; bench/RESULTS.md has every row.`,
    ),
  );
  const readme = path.join(root, "README.md");
  const start = "<!-- bench:start -->";
  const end = "<!-- bench:end -->";
  const text = fs.readFileSync(readme, "utf8");
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`README.md lacks ${start} ${end}`);
  fs.writeFileSync(
    readme,
    text.slice(0, from) + renderReadme(machine, results, opfs) +
      text.slice(to),
  );
  // In the repository's style, so that `deno fmt --check` stays clean.
  execFileSync(Deno.execPath(), [
    "fmt",
    "-q",
    readme,
    resultsFile,
    resultsMd,
    chart,
  ], { stdio: "inherit" });
  console.error(
    "Wrote bench/RESULTS.md, bench/results.json, bench/chart.svg, README.md",
  );
}
