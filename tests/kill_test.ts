/**
 * Process kills: a child of this runtime loops atomic replaces of one file;
 * the parent SIGKILLs it at random moments and checks after each kill that
 * the target holds a complete version, the last acknowledged one or the one
 * after it. Temp files a kill left are counted and must be removed by
 * `cleanupTemps`. Negative control: the in-place backend is caught.
 *
 * KILL_ROUNDS sets the number of kills per backend (default 100; a kill
 * costs about 0.2 s of CPU, a runtime's start, and the whole suite is
 * CPU-bound on CI's 2 cores; `deno task crash:kill` runs thousands).
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import { test } from "node:test";
import { cleanupTemps } from "../mod.ts";
import { isWholeVersion } from "./_conformance.ts";
import {
  availableBackends,
  leftoverTemps,
  makeTempDir,
  ROOT,
  RUNTIME,
  scriptCommand,
} from "./_helpers.ts";

const ROUNDS = Number(process.env.KILL_ROUNDS ?? 100);
const CHILD = path.join(ROOT, "tests", "_kill_child.ts");

interface KillReport {
  kills: number;
  /** Target torn, empty, missing or not a version the writer could have made. */
  violations: number;
  /** Kills that left a temp file. */
  tempsLeft: number;
  tempsRemovedByCleanup: number;
}

/** Starts a writer, kills it after its first ack plus a random delay. */
function killOnce(
  backend: string,
  file: string,
  size: number,
  durability: string,
): Promise<{ lastAck: number }> {
  return new Promise((resolve, reject) => {
    const command = scriptCommand(CHILD);
    const child = spawn(
      command[0],
      [...command.slice(1), backend, file, durability, String(size)],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    let errors = "";
    let timer: ReturnType<typeof setTimeout> | undefined;
    child.stdout.on("data", (chunk) => {
      output += chunk;
      if (timer === undefined && output.includes("ack ")) {
        timer = setTimeout(() => child.kill("SIGKILL"), Math.random() * 25);
      }
    });
    child.stderr.on("data", (chunk) => errors += chunk);
    child.on("error", reject);
    child.on("close", (_code, signal) => {
      if (signal !== "SIGKILL") {
        reject(new Error(`writer exited without being killed: ${errors}`));
        return;
      }
      const acks = [...output.matchAll(/ack (\d+)\n/g)].map((m) =>
        Number(m[1])
      );
      resolve({ lastAck: acks.at(-1) ?? 0 });
    });
  });
}

/** The version number inside a `versionContent` text. */
function versionOf(content: string): number {
  return Number(/\|kill#*:(\d+):/.exec(content)?.[1] ?? -1);
}

async function killRounds(
  backend: string,
  rounds: number,
  size: number,
  durability = "full",
): Promise<KillReport> {
  const dir = makeTempDir("aw-kill-");
  const file = path.join(dir, "target.txt");
  const report: KillReport = {
    kills: 0,
    violations: 0,
    tempsLeft: 0,
    tempsRemovedByCleanup: 0,
  };
  try {
    for (let round = 0; round < rounds; round++) {
      const { lastAck } = await killOnce(backend, file, size, durability);
      report.kills++;
      const content = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
      const version = versionOf(content);
      const whole = isWholeVersion(content);
      // The next writer restarts at version 1: accept the last acked
      // version or the one after it.
      if (!whole || (version !== lastAck && version !== lastAck + 1)) {
        report.violations++;
      }
      const temps = leftoverTemps(dir).length;
      if (temps > 0) {
        report.tempsLeft++;
        report.tempsRemovedByCleanup +=
          (await cleanupTemps(dir, { olderThan: 0 })).length;
        assert.deepEqual(leftoverTemps(dir), [], "cleanupTemps removed all");
      }
      fs.rmSync(file, { force: true });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return report;
}

for (const backend of availableBackends()) {
  test(
    `kill -9 of a ${RUNTIME} writer (${backend} backend) ${ROUNDS} times: always a whole, acknowledged version`,
    { timeout: 600_000 },
    async () => {
      const report = await killRounds(backend, ROUNDS, 0);
      console.log(`kills, ${RUNTIME}/${backend}: ${JSON.stringify(report)}`);
      assert.equal(report.kills, ROUNDS);
      assert.equal(report.violations, 0);
    },
  );
}

test(
  `kill -9 negative control: an in-place ${RUNTIME} writer is caught`,
  { timeout: 600_000 },
  async () => {
    const rounds = Math.min(ROUNDS, 80);
    const report = await killRounds("in-place", rounds, 200_000, "none");
    console.log(`kills, ${RUNTIME}/in-place: ${JSON.stringify(report)}`);
    assert.ok(report.violations > 0, "in-place writes must be caught torn");
  },
);
