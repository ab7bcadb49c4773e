/**
 * The cost of an atomic OPFS write next to a plain `createWritable()` write
 * of the same file, in Chromium, Firefox ESR and WebKitGTK, page and
 * worker, 1 KiB and 64 MiB. The full run also writes the rows to
 * `bench/opfs_results.json` for `bench/main.ts`.
 *
 *   node --import tsx bench/opfs.ts           # full run
 *   node --import tsx bench/opfs.ts --quick   # fewer rounds, writes nothing
 *   node --import tsx bench/opfs.ts --calls   # what each OPFS call costs
 *   node --import tsx bench/opfs.ts --trace   # the calls one save makes
 */

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import {
  type Engine,
  engineMissing,
  startHarness,
} from "../tests/_browsers.ts";
import type { Measurement } from "./opfs/_measure.ts";
import type { OpfsRow } from "./_results.ts";

/** "1 KiB", "64 MiB" as bytes. */
function bytesOf(size: string): number {
  const [count, unit] = size.split(" ");
  return Number(count) * (unit === "MiB" ? 2 ** 20 : 2 ** 10);
}

const here = path.dirname(fileURLToPath(import.meta.url));
const mode = process.argv.includes("--calls")
  ? "calls"
  : process.argv.includes("--trace")
  ? "trace"
  : process.argv.includes("--quick")
  ? "quick"
  : "full";

/** The engine's version as its package reports it. */
function version(engine: Engine): string {
  const command: Record<Engine, string[]> = {
    chromium: ["chromium", "--version"],
    firefox: ["firefox-esr", "--version"],
    webkit: [
      "dpkg-query",
      "-W",
      "-f",
      "WebKitGTK ${Version}",
      "libwebkit2gtk-4.1-0",
    ],
  };
  const [program, ...args] = command[engine];
  const output = spawnSync(program, args, { encoding: "utf8" }).stdout ?? "";
  return output.split(" built on")[0].trim();
}

const harness = await startHarness(
  {
    bench_page: path.join(here, "opfs/_page.ts"),
    bench_worker: path.join(here, "opfs/_worker.ts"),
  },
  { "/": "bench_page.js" },
  8737,
);

const rows: OpfsRow[] = [];
const ms = (value: number) => value.toFixed(mode === "full" ? 2 : 3);
console.log(
  mode === "calls"
    ? "| engine | context | call | ms |\n| --- | --- | --- | --- |"
    : mode === "trace"
    ? "| engine | context | call | per save | ms each |\n| --- | --- | --- | --- | --- |"
    : "| engine | context | size | plain createWritable (ms) | atomic writeFile (ms) | ratio |\n| --- | --- | --- | --- | --- | --- |",
);
try {
  for (const engine of ["chromium", "firefox", "webkit"] as Engine[]) {
    const missing = engineMissing(engine);
    if (missing) {
      console.log(`| ${engine} | skipped: ${missing} | | | | |`);
      continue;
    }
    const results = await harness.open(engine, `/?${mode}`, {
      timeout: 600_000,
    });
    for (const context of ["page", "worker"] as const) {
      const measured = results[context] as unknown;
      if (typeof measured === "string") {
        console.log(`| ${engine} | ${context} | ${measured} | | | |`);
        continue;
      }
      type Row = { call: string; ms: number; perSave: number } & Measurement;
      for (const row of measured as Row[]) {
        if (mode === "trace") {
          console.log(
            `| ${engine} | ${context} | ${row.call} | ${row.perSave} | ${
              ms(row.ms)
            } |`,
          );
          continue;
        }
        if (mode === "calls") {
          console.log(
            `| ${engine} | ${context} | ${row.call} | ${ms(row.ms)} |`,
          );
          continue;
        }
        console.log(
          `| ${engine} | ${context} | ${row.size} | ${ms(row.plain)} | ${
            ms(row.atomic)
          } | ${row.ratio.toFixed(2)} |`,
        );
        rows.push({
          engine,
          version: version(engine),
          context,
          size: bytesOf(row.size),
          plainMs: row.plain,
          atomicMs: row.atomic,
          ratio: row.ratio,
        });
      }
    }
  }
} finally {
  harness.close();
}
if (mode === "full") {
  fs.writeFileSync(
    path.join(here, "opfs_results.json"),
    `${JSON.stringify(rows, null, 2)}\n`,
  );
}
