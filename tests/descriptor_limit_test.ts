/**
 * Descriptor exhaustion (EMFILE). A child process runs under `ulimit -n 1024`
 * (the usual default; Node and Bun raise the soft limit themselves, so the
 * hard limit is lowered too) and starts many writes at once: every write must
 * succeed, because writeFile bounds the temp files it holds open and any
 * open that still fails with EMFILE is retried with backoff.
 */

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import {
  MAX_OPEN_WRITES,
  RETRY_BUDGET_MS,
  writeSlots,
} from "../src/_descriptor_limit.ts";
import {
  availableBackends,
  createBackend,
  leftoverTemps,
  makeTempDir,
  ROOT,
  run,
  RUNTIME,
  scriptCommand,
  subjectFor,
} from "./_helpers.ts";

const CHILD = path.join(ROOT, "tests", "_descriptor_child.ts");

/** The content the child writes in write `index` (see the child). */
function contentOf(index: number): string {
  return `write ${index} `.padEnd(1024, ".");
}

interface Report {
  written: number;
  failed: number;
  /** Failures by `"step code"`. */
  failures: Record<string, number>;
  /** Rejections no one handled in time (a crash without the child's hook). */
  unhandled: string[];
  /** Open descriptors before the writes, and the most seen during them. */
  baseline: number;
  peak: number;
  elapsedMs: number;
}

async function runChild(
  backend: string,
  scenario: string,
  dir: string,
): Promise<Report> {
  const result = await run([
    "sh",
    "-c",
    // Deno's update check would print a warning when it finds no descriptor.
    'ulimit -n 1024 && export DENO_NO_UPDATE_CHECK=1 && exec "$@"',
    "sh",
    ...scriptCommand(CHILD),
    backend,
    scenario,
    dir,
  ]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  const report = JSON.parse(result.stdout) as Report;
  console.log(
    `descriptors, ${RUNTIME}/${backend}, ${scenario}: ${
      JSON.stringify(report)
    }`,
  );
  return report;
}

/** Gives f-0 ... f-(count-1) an old content. */
function writeOldFiles(dir: string, count: number): void {
  for (let i = 0; i < count; i++) {
    fs.writeFileSync(path.join(dir, `f-${i}`), `old ${i}`);
  }
}

function read(dir: string, index: number): string {
  return fs.readFileSync(path.join(dir, `f-${index}`), "utf8");
}

const options = { timeout: 120_000 };

/** Descriptors beyond the bound: runtime internals. */
const SLACK = 16;
/**
 * Deno closes a file for real only once its other file operations in flight
 * are done (measured: 64 tasks that each open, fsync and close keep up to 63
 * closed descriptors open), so there the peak is up to twice the bound.
 */
const CLOSE_LAG = RUNTIME === "deno" ? 2 : 1;

/** A scenario of the child, and what the files must hold afterwards. */
interface Case {
  scenario: string;
  title: string;
  /** Files f-0 ... that hold an old content before the child runs. */
  old: number;
  check(dir: string, report: Report): void;
}

function allWritten(count: number, last = count): Case["check"] {
  return (dir, report) => {
    assert.deepEqual(report.failures, {});
    assert.equal(report.written, last);
    for (let i = 0; i < count; i++) {
      // With fewer files than writes, the last call for each file wins.
      assert.equal(read(dir, i), contentOf(last - count + i));
    }
  };
}

function boundHeld(report: Report): void {
  const held = report.peak - report.baseline;
  assert.ok(
    held <= CLOSE_LAG * MAX_OPEN_WRITES + SLACK,
    `${held} descriptors held at the peak`,
  );
}

const CASES: Case[] = [
  {
    scenario: "distinct",
    title: "2,000 parallel writes to 2,000 files",
    old: 0,
    check(dir, report) {
      allWritten(2000)(dir, report);
      boundHeld(report);
    },
  },
  {
    scenario: "same",
    title: "2,000 parallel writes to 20 files",
    old: 0,
    check(dir, report) {
      allWritten(20, 2000)(dir, report);
      boundHeld(report);
    },
  },
  {
    scenario: "crowded",
    title: "200 writes while the process holds all but ~20 descriptors",
    old: 200,
    check: allWritten(200),
  },
  {
    scenario: "released",
    title: "200 writes started with no descriptor left, freed after 300 ms",
    old: 200,
    check: allWritten(200),
  },
  {
    scenario: "pending",
    title: "50 openAtomic started with no descriptor left, freed after 300 ms",
    old: 0,
    check: allWritten(50),
  },
  {
    scenario: "exhausted",
    title: "5 writes with no descriptor ever freed fail with EMFILE",
    old: 5,
    check(dir, report) {
      // Bun's realpath opens a descriptor: there the first step fails.
      const [failure, ...others] = Object.keys(report.failures);
      assert.match(failure, /^(resolve|open) EMFILE$/);
      assert.deepEqual(others, []);
      assert.equal(report.failed, 5);
      assert.ok(report.elapsedMs >= RETRY_BUDGET_MS, "retried for the budget");
      for (let i = 0; i < 5; i++) assert.equal(read(dir, i), `old ${i}`);
    },
  },
];

for (const backend of availableBackends()) {
  for (const { scenario, title, old, check } of CASES) {
    test(
      `${RUNTIME}/${backend}, ulimit -n 1024: ${title}`,
      options,
      async () => {
        const dir = makeTempDir("aw-descriptors-");
        try {
          writeOldFiles(dir, old);
          const report = await runChild(backend, scenario, dir);
          check(dir, report);
          assert.deepEqual(report.unhandled, []);
          assert.deepEqual(leftoverTemps(dir), []);
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      },
    );
  }
}

/** Waits (a few ms at a time) until `condition` holds. */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    assert.ok(Date.now() < deadline, "timed out");
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

test(`${RUNTIME}: with every slot taken, writeFile waits and honours its signal; openAtomic and streams do not wait`, async () => {
  const dir = makeTempDir("aw-descriptors-");
  const file = path.join(dir, "f");
  fs.writeFileSync(file, "old");
  const { api } = subjectFor("default", createBackend(availableBackends()[0]));
  // Take every slot, as MAX_OPEN_WRITES writes in flight would.
  let taken = 0;
  for (; taken < MAX_OPEN_WRITES; taken++) {
    assert.equal(writeSlots.acquire(), undefined);
  }
  try {
    const controller = new AbortController();
    const aborted = api.writeFile(file, "new", { signal: controller.signal });
    await until(() => writeSlots.waiting === 1);
    const reason = new Error("stop");
    controller.abort(reason);
    // At once: before any timer runs.
    const outcome = await Promise.race([
      aborted.then(() => "resolved", (error) => error),
      new Promise((resolve) => setTimeout(() => resolve("pending"), 0)),
    ]);
    assert.equal(outcome, reason);
    assert.equal(writeSlots.waiting, 0);
    assert.equal(fs.readFileSync(file, "utf8"), "old");
    assert.deepEqual(leftoverTemps(dir), []);

    // Neither can deadlock a caller who holds slots: they never wait.
    const pending = await api.openAtomic(file);
    await pending.write("opened");
    await pending.commit();
    assert.equal(fs.readFileSync(file, "utf8"), "opened");
    await api.writeFile(file, ReadableStream.from(["stream", "ed"]));
    assert.equal(fs.readFileSync(file, "utf8"), "streamed");

    const waiting = api.writeFile(file, "newer");
    await until(() => writeSlots.waiting === 1);
    writeSlots.release();
    taken--;
    await waiting;
    assert.equal(fs.readFileSync(file, "utf8"), "newer");
    assert.deepEqual(leftoverTemps(dir), []);
  } finally {
    for (; taken > 0; taken--) writeSlots.release();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
