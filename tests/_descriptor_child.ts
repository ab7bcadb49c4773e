/**
 * Child process for the descriptor-limit cases; run it under `ulimit -n 1024`.
 *   BACKEND SCENARIO DIR
 * Scenarios:
 *   distinct:  2,000 parallel 1 KiB writes to f-0 ... f-1999.
 *   same:      2,000 parallel 1 KiB writes to f-0 ... f-19 (100 each).
 *   crowded:   the process holds all but ~20 descriptors, then 200 writes.
 *   released:  the process holds every descriptor, starts 200 writes and
 *              frees its descriptors after 300 ms.
 *   pending:   as released, but 50 `openAtomic` calls, each then committed.
 *   exhausted: the process holds every descriptor for good; 5 writes.
 * Prints one JSON report: how many writes succeeded and failed (by step and
 * code), and the peak number of open descriptors (from /proc/self/fd).
 */

import * as fs from "node:fs";
import process from "node:process";
import { AtomicWriteError } from "../src/errors.ts";
import { childSubject } from "./_child_backend.ts";

const [name, scenario, dir] = process.argv.slice(2);
const { api } = childSubject(name);

/** The 1 KiB content of write `index`. */
function contentOf(index: number): string {
  return `write ${index} `.padEnd(1024, ".");
}

function openDescriptors(): number | undefined {
  try {
    // Counts the descriptor readdir itself opens, as the library would.
    return fs.readdirSync("/proc/self/fd").length;
  } catch {
    return undefined; // EMFILE: nothing to count with
  }
}

let peak = 0;
function sample(): void {
  peak = Math.max(peak, openDescriptors() ?? 0);
}

/** Opens /dev/null until only `spare` descriptors are left (or none). */
function holdDescriptors(spare: number): number[] {
  if (typeof Deno !== "undefined") {
    // Deno sets up its signal handling lazily, a few hundred ms after start,
    // and panics if no descriptor is free then: make it do so now.
    const ignore = () => {};
    Deno.addSignalListener("SIGWINCH", ignore);
    Deno.removeSignalListener("SIGWINCH", ignore);
  }
  const held: number[] = [];
  const limit = 1024;
  try {
    while ((openDescriptors() ?? limit) < limit - spare) {
      held.push(fs.openSync("/dev/null", "r"));
    }
    if (spare === 0) {
      while (true) held.push(fs.openSync("/dev/null", "r"));
    }
  } catch (error) {
    if ((error as { code?: string }).code !== "EMFILE") throw error;
  }
  return held;
}

// Reported rather than fatal, so that the test can say what went unhandled.
const unhandled: string[] = [];
process.on("unhandledRejection", (error) => unhandled.push(String(error)));

const counts = { written: 0, failed: 0 };
const failures: Record<string, number> = {};
function settle(promise: Promise<unknown>): Promise<void> {
  return promise.then(
    () => {
      counts.written++;
      sample();
    },
    (error) => {
      counts.failed++;
      const key = error instanceof AtomicWriteError
        ? `${error.step} ${error.code}`
        : `${(error as Error)?.name}: ${(error as Error)?.message}`;
      failures[key] = (failures[key] ?? 0) + 1;
      sample();
    },
  );
}

const baseline = openDescriptors() ?? 0;
const timer = setInterval(sample, 1);
const started = Date.now();
const file = (index: number) => `${dir}/f-${index}`;
let held: number[] = [];
const release = () => {
  for (const fd of held) fs.closeSync(fd);
  held = [];
};
let writes: Promise<void>[];
switch (scenario) {
  case "distinct":
  case "same": {
    const files = scenario === "same" ? 20 : 2000;
    writes = Array.from(
      { length: 2000 },
      (_, i) => settle(api.writeFile(file(i % files), contentOf(i))),
    );
    break;
  }
  case "crowded":
  case "released":
  case "exhausted": {
    held = holdDescriptors(scenario === "crowded" ? 20 : 0);
    const count = scenario === "exhausted" ? 5 : 200;
    writes = Array.from(
      { length: count },
      (_, i) => settle(api.writeFile(file(i), contentOf(i))),
    );
    if (scenario === "released") setTimeout(release, 300);
    break;
  }
  case "pending": {
    held = holdDescriptors(0);
    writes = Array.from({ length: 50 }, async (_, i) => {
      await settle((async () => {
        const pending = await api.openAtomic(file(i));
        await pending.write(contentOf(i));
        await pending.commit();
      })());
    });
    setTimeout(release, 300);
    break;
  }
  default:
    throw new Error(`unknown scenario ${scenario}`);
}
await Promise.all(writes);
const elapsedMs = Date.now() - started;
clearInterval(timer);
release();
console.log(JSON.stringify({
  ...counts,
  failures,
  unhandled,
  baseline,
  peak,
  elapsedMs,
}));
