/**
 * `deno task bench` (through `bench/bench.sh`): runs `bench/run.ts` in Deno, Bun and Node, one runtime
 * after the other (never at the same time: they would share the disk), and
 * writes `bench/RESULTS.md` with the machine, the versions and one set of
 * tables per runtime.
 *
 *   deno task bench                      # everything, ~15 minutes
 *   deno task bench --quick              # smaller sizes, ~2 minutes
 *   deno task bench --runtimes bun,node  # a subset of the runtimes
 *   deno task bench --only small,burst   # a subset of the workloads
 *
 *   deno task bench --render             # RESULTS.md and README from bench/results.json
 *
 * Workload ids for --only: small, sync, 1mib, large, stream, burst, many,
 * append. A partial run (--only, --runtimes) prints its tables but leaves
 * RESULTS.md, results.json and the README alone unless --write is given;
 * then its rows replace the same rows of bench/results.json (each row is
 * still one in-process comparison), and RESULTS.md says which were re-run.
 * The README's table sits between the markers `<!-- bench:start -->` and
 * `<!-- bench:end -->`.
 */

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync, spawnSync } from "node:child_process";
import { renderRuntime, renderSummary } from "./_report.ts";
import type { RuntimeResults } from "./_results.ts";

const args = Deno.args;
const option = (name: string) => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
};
const quick = args.includes("--quick");
const only = option("--only");
const selected = (option("--runtimes") ?? "deno,bun,node").split(",");
const partial = only !== undefined || option("--runtimes") !== undefined;
const write = !partial || args.includes("--write");

const root = path.resolve(import.meta.dirname!, "..");
const bin = path.join(root, "node_modules", ".bin");
const env = { ...Deno.env.toObject(), PATH: `${bin}:${Deno.env.get("PATH")}` };

const RUNNERS: Record<string, string[]> = {
  deno: ["deno", "run", "-A", "--v8-flags=--expose-gc", "bench/run.ts"],
  bun: ["bun", "bench/run.ts"],
  node: ["node", "--expose-gc", "--import", "tsx", "bench/run.ts"],
};

function capture(command: string, commandArgs: string[]): string {
  try {
    return execFileSync(command, commandArgs, { env, encoding: "utf8" })
      .trim();
  } catch {
    return "unknown";
  }
}

function packageVersion(name: string): string {
  const file = path.join(root, "node_modules", name, "package.json");
  return JSON.parse(fs.readFileSync(file, "utf8")).version;
}

const resultsFile = path.join(root, "bench", "results.json");
const render = args.includes("--render");
const results: RuntimeResults[] = render
  ? JSON.parse(fs.readFileSync(resultsFile, "utf8")).results
  : [];
for (const runtime of render ? [] : selected) {
  const command = RUNNERS[runtime];
  if (!command) throw new Error(`Unknown runtime "${runtime}"`);
  const json = path.join(os.tmpdir(), `atomic-write-bench-${runtime}.json`);
  const runArgs = [...command.slice(1), "--json", json];
  if (quick) runArgs.push("--quick");
  if (only) runArgs.push("--only", only);
  console.error(`\n== ${runtime}: ${command[0]} ${runArgs.join(" ")}`);
  const run = spawnSync(command[0], runArgs, {
    cwd: root,
    env,
    stdio: "inherit",
  });
  if (run.status !== 0) {
    throw new Error(`The ${runtime} benchmark failed (exit ${run.status})`);
  }
  results.push(JSON.parse(fs.readFileSync(json, "utf8")));
  fs.rmSync(json);
}

const cpus = os.cpus();
const fileSystem = capture("stat", ["-f", "-c", "%T", os.tmpdir()]);
const packages = [
  "write-file-atomic",
  "atomically",
  "steno",
  "fast-write-atomic",
].map((name) => `${name} ${packageVersion(name)}`).join(", ");
const machine: Record<string, string> = render
  ? JSON.parse(fs.readFileSync(resultsFile, "utf8")).machine
  : {
    date: `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC`,
    machine: `${cpus.length} × ${cpus[0]?.model ?? "unknown CPU"}, ${
      (os.totalmem() / 2 ** 30).toFixed(0)
    } GiB RAM, Linux ${os.release()}, temp files on ${fileSystem} (${os.tmpdir()})`,
    runtimes: results.map((r) => r.version).join(", "),
    alternatives: packages,
  };
if (partial && write) {
  // Re-measured rows replace the same rows of the last full run.
  const last = JSON.parse(fs.readFileSync(resultsFile, "utf8"));
  const merged: RuntimeResults[] = last.results;
  const remeasured: string[] = [];
  for (const fresh of results) {
    const old = merged.find((entry) => entry.runtime === fresh.runtime);
    if (!old) {
      merged.push(fresh);
      continue;
    }
    for (const row of fresh.rows) {
      const index = old.rows.findIndex((entry) =>
        entry.workload === row.workload && entry.durability === row.durability
      );
      if (index >= 0) old.rows[index] = row;
      else old.rows.push(row);
      remeasured.push(`${fresh.version} ${row.workload} [${row.durability}]`);
    }
  }
  results.splice(0, results.length, ...merged);
  machine.remeasured = [
    ...(last.machine.remeasured ? [last.machine.remeasured] : []),
    `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC: ${
      remeasured.join(", ")
    }`,
  ].join("; ");
  machine.date = last.machine.date;
}
const report = [
  "# Benchmark results",
  "",
  "Written by `deno task bench` (`bench/main.ts`); do not edit by hand.",
  "",
  `- Date: ${machine.date}`,
  `- Machine: ${machine.machine}`,
  `- Runtimes: ${machine.runtimes}`,
  `- Alternatives: ${machine.alternatives}`,
  ...(machine.remeasured ? [`- Rows re-measured: ${machine.remeasured}`] : []),
  "",
  "Every comparison runs its contenders interleaved in one process, in",
  "several rounds, and reports medians; compare ratios, not absolute times",
  "(this is a shared machine). Durability: `none` = no fsync, `file` = fsync",
  "of the file, `full` = fsync of the file and of its directory. A contender",
  'that cannot offer a level is left out of that row (—). "inline protocol"',
  "is the bare protocol written inline with the runtime's async calls (no",
  'mode, owner or symlink handling, no queue); "plain write" writes the',
  "target in place (not atomic).",
  "",
  ...results.flatMap((result) => [renderRuntime(result), ""]),
].join("\n");

console.log(report);
console.log(renderSummary(results));
if (write || render) {
  const resultsMd = path.join(root, "bench", "RESULTS.md");
  fs.writeFileSync(resultsMd, report);
  fs.writeFileSync(
    resultsFile,
    JSON.stringify({ machine, results }, null, 1) + "\n",
  );
  const readme = path.join(root, "README.md");
  const start = "<!-- bench:start -->";
  const end = "<!-- bench:end -->";
  const text = fs.readFileSync(readme, "utf8");
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`README.md lacks ${start} ${end}`);
  const summary = [
    start,
    "",
    `${machine.date}, ${machine.machine}.`,
    "",
    renderSummary(results),
    "",
  ].join("\n");
  fs.writeFileSync(readme, text.slice(0, from) + summary + text.slice(to));
  // In the repository's style, so that `deno fmt --check` stays clean.
  spawnSync(Deno.execPath(), ["fmt", "-q", readme, resultsFile, resultsMd], {
    stdio: "inherit",
  });
  console.error("Wrote bench/RESULTS.md, bench/results.json, README.md");
}
