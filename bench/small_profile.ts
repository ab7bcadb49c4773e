/**
 * Where the time of one small atomic replace goes (issue 13 part 2): runs
 * sequential 1 KiB `writeFile` calls through the runtime's backend with every
 * primitive timed, and prints the share of each primitive and of everything
 * else (the protocol, the queue, promises).
 *
 *   deno run -A bench/small_profile.ts [--dir DIR] [--durability none|file|full] [--writes N] [--concurrent N]
 *   bun bench/small_profile.ts ...
 *   node --import tsx bench/small_profile.ts ...
 *
 * With `--concurrent N` (issue 13 part 1) the writes go N at a time, to N
 * files in one directory, and the run ends with the same number of writes
 * through the bare inline protocol of `bench/_baselines.ts` (all its calls
 * in the thread pool) for comparison. The synchronous primitives run on the
 * main thread one after another, so their share of the wall time is how busy
 * they keep it; the asynchronous ones overlap and can add up to more.
 *
 * On ext4 the rename over an existing file dominates at "none": ext4 starts
 * writing the new file's data at that rename (auto_da_alloc), and every
 * atomic-replace library pays it.
 */

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createAtomicWrite } from "../src/_api.ts";
import type { Backend } from "../src/_backend.ts";
import { createBunBackend } from "../src/backends/bun.ts";
import { createDenoBackend } from "../src/backends/deno.ts";
import { createNodeBackend } from "../src/backends/node.ts";
import type { Durability } from "../src/options.ts";
import { detectRuntime } from "../src/runtime.ts";
import { baselines } from "./_baselines.ts";
import { option } from "./_harness.ts";

const durability = option("--durability", "none") as Durability;
const writes = Number(option("--writes", "2000"));
const concurrent = Number(option("--concurrent", "1"));
const root = option("--dir", os.tmpdir());

const runtime = detectRuntime();
const backend: Backend =
  (runtime === "deno"
    ? createDenoBackend()
    : runtime === "bun"
    ? createBunBackend()
    : createNodeBackend()) as unknown as Backend;

/** Time spent per primitive, in milliseconds, and calls. */
const spent = new Map<string, { calls: number; ms: number }>();
for (const kind of ["sync", "async"] as const) {
  const primitives = backend[kind] as unknown as Record<
    string,
    (...a: unknown[]) => unknown
  >;
  if (!primitives) continue;
  for (const name of Object.keys(primitives)) {
    const primitive = primitives[name];
    primitives[name] = (...callArgs: unknown[]) => {
      const start = performance.now();
      const add = () => {
        const entry = spent.get(`${kind}.${name}`) ?? { calls: 0, ms: 0 };
        entry.calls++;
        entry.ms += performance.now() - start;
        spent.set(`${kind}.${name}`, entry);
      };
      const result = primitive(...callArgs);
      if (result instanceof Promise) {
        return result.finally(add);
      }
      add();
      return result;
    };
  }
}

const api = createAtomicWrite(() => backend);
const directory = fs.mkdtempSync(path.join(root, "small-profile-"));
const targets = Array.from(
  { length: concurrent },
  (_, index) => path.join(directory, `target-${index}`),
);
for (const target of targets) fs.writeFileSync(target, "old");
const bytes = new Uint8Array(1024).fill(97);
/** Writes `count` times, `concurrent` at once; µs per write. */
async function timeWrites(
  count: number,
  write: (target: string) => Promise<unknown>,
): Promise<number> {
  const start = performance.now();
  for (let done = 0; done < count; done += concurrent) {
    await Promise.all(targets.map(write));
  }
  return (performance.now() - start) * 1000 / count;
}
try {
  const ours = (target: string) => api.writeFile(target, bytes, { durability });
  await timeWrites(Math.min(200, writes), ours);
  spent.clear();
  const perWrite = await timeWrites(writes, ours);
  const rows = [...spent].sort((a, b) => b[1].ms - a[1].ms);
  let inPrimitives = 0;
  const how = concurrent > 1 ? `${concurrent} at a time` : "sequential";
  console.log(
    `${runtime}, ${writes} ${how} 1 KiB writes at "${durability}" in ${directory}: ${
      perWrite.toFixed(1)
    } µs per write`,
  );
  for (const [name, { calls, ms }] of rows) {
    const micros = ms * 1000 / writes;
    inPrimitives += micros;
    console.log(
      `  ${name.padEnd(22)} ${(calls / writes).toFixed(1)}x ${
        micros.toFixed(1).padStart(7)
      } µs ${(100 * micros / perWrite).toFixed(0).padStart(3)}%`,
    );
  }
  const rest = perWrite - inPrimitives;
  if (concurrent === 1) {
    console.log(
      `  ${"everything else".padEnd(22)}      ${
        rest.toFixed(1).padStart(7)
      } µs ${(100 * rest / perWrite).toFixed(0).padStart(3)}%`,
    );
  } else {
    const onMainThread = rows.filter(([name]) => name.startsWith("sync."))
      .reduce((sum, [, { ms }]) => sum + ms * 1000 / writes, 0);
    console.log(
      `  synchronous primitives keep the main thread busy ${
        (100 * onMainThread / perWrite).toFixed(0)
      }% of the time`,
    );
    const base = baselines();
    const inline = (target: string) =>
      base.inlineWrite(target, bytes, durability);
    await timeWrites(Math.min(200, writes), inline);
    const inlinePerWrite = await timeWrites(writes, inline);
    console.log(
      `  the inline protocol, ${how}: ${
        inlinePerWrite.toFixed(1)
      } µs per write (this library ${
        (perWrite / inlinePerWrite).toFixed(2)
      }x of it)`,
    );
  }
} finally {
  fs.rmSync(directory, { recursive: true, force: true });
}
