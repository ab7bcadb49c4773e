/**
 * Issue 13 part 1: where the exclusive create and the rename of concurrent
 * writes should run, compared in one process (interleaved rounds, medians):
 * on the main thread (`never`), in the thread pool whenever writes span
 * directories (`spread`), every call in the pool as the inline protocol
 * makes them (`all`), or in the pool only while their measured duration
 * on the main thread exceeds a pool trip (`measured`, what ships; see
 * `belongsInPool` in `src/_driver.ts`), against the inline protocol and, at
 * "full", the floor (the inline protocol without its directory fsync).
 * Not part of `deno task bench`.
 *
 *   deno run -A bench/pool_policy.ts [options]
 *   bun bench/pool_policy.ts [options]
 *   node --import tsx bench/pool_policy.ts [options]
 *
 * Options: `--dirs N` (10), `--per N` files per directory (100),
 * `--durability none|file|full` (full), `--rounds N` (7), `--dir DIR` (the
 * temp directory; an xfs mount to compare file systems).
 */

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { writeFile } from "../mod.ts";
import { poolPolicy } from "../src/_driver.ts";
import { baselines, type Durability } from "./_baselines.ts";
import { type Contender, interleave, option, spreadFiles } from "./_harness.ts";

const directories = Number(option("--dirs", "10"));
const perDirectory = Number(option("--per", "100"));
const durability = option("--durability", "full") as Durability;
const rounds = Number(option("--rounds", "7"));
const root = fs.mkdtempSync(path.join(option("--dir", os.tmpdir()), "pool-"));
const bytes = new Uint8Array(1024).fill(0x61);
const base = baselines();

/** Fresh targets for one contender, round-robin over its directories. */
function targets(name: string): string[] {
  return spreadFiles(root, name, directories, perDirectory, bytes).files;
}

function contender(
  name: string,
  write: (file: string) => Promise<unknown>,
): Contender {
  const files = targets(name);
  return { name, run: () => Promise.all(files.map(write)) };
}

const policies = ["never", "spread", "all", "measured"] as const;
const contenders = [
  ...policies.map((mode) => {
    const files = targets(mode);
    return {
      name: `atomic-write, ${mode}`,
      run: () => {
        poolPolicy.mode = mode;
        return Promise.all(
          files.map((file) => writeFile(file, bytes, { durability })),
        );
      },
    };
  }),
  contender(
    "inline protocol",
    (file) => base.inlineWrite(file, bytes, durability),
  ),
  ...(durability === "full"
    ? [contender("floor", (file) => base.inlineWrite(file, bytes, "file"))]
    : []),
];

try {
  const timings = await interleave(contenders, rounds, 1);
  const inline = timings.find((t) => t.name === "inline protocol")!.median;
  const floor = timings.find((t) => t.name === "floor")?.median;
  console.log(
    `${
      directories * perDirectory
    } writes of 1 KiB over ${directories} directories, "${durability}", ${rounds} rounds, in ${root}`,
  );
  for (const { name, median, samples } of timings) {
    const ratios = `÷ inline ${(median / inline).toFixed(2)}` +
      (floor ? `, ÷ floor ${(median / floor).toFixed(2)}` : "");
    console.log(
      `  ${name.padEnd(24)} ${median.toFixed(1).padStart(7)} ms  ${ratios}  [${
        samples.map((sample) => sample.toFixed(0)).join(" ")
      }]`,
    );
  }
} finally {
  poolPolicy.mode = "measured";
  fs.rmSync(root, { recursive: true, force: true });
}
