/**
 * A process that ends while writes are in flight removes their temp files:
 * `process.exit()`, `Deno.exit()`, a drained event loop (an `openAtomic` never
 * committed) and an uncaught exception. Each case runs a child of this
 * runtime (`_exit_child.ts`) per backend; the targets must keep their old
 * content and no temp file may be left. An application that handles the
 * exception keeps its process, and its writes must still succeed.
 *
 * Signals: the library installs no signal handler, so SIGINT and SIGTERM
 * keep their default (the process is killed at once, its temp files stay
 * for `cleanupTemps`); an application handler that calls `exit()` gets them
 * removed.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { cleanupTemps } from "../mod.ts";
import {
  availableBackends,
  leftoverTemps,
  makeTempDir,
  ROOT,
  run,
  RUNTIME,
  scriptCommand,
} from "./_helpers.ts";

const CHILD = path.join(ROOT, "tests", "_exit_child.ts");
const FILES = ["stream.txt", "pending.txt", "sync.txt"];

/** How the child ends, and the exit status that ending gives. */
const ENDINGS: { how: string; code: number }[] = [
  { how: "process-exit", code: 0 },
  ...(RUNTIME === "deno" ? [{ how: "deno-exit", code: 0 }] : []),
  { how: "drain", code: 0 },
  { how: "throw", code: 1 },
  { how: "reject", code: 1 },
];

/** Starts a child that waits, sends it `signal` once its writes are in flight. */
function signalChild(
  backend: string,
  dir: string,
  how: string,
  signal: "SIGINT" | "SIGTERM",
): Promise<{ code: number | null; signal: string | null; output: string }> {
  return new Promise((resolve, reject) => {
    const [command, ...args] = scriptCommand(CHILD);
    const child = spawn(command, [...args, backend, dir, how], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    let sent = false;
    const collect = (chunk: unknown) => {
      output += chunk;
      if (!sent && /^temps \d+$/m.test(output)) {
        sent = true;
        child.kill(signal);
      }
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", (chunk) => output += chunk);
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, output }));
  });
}

async function runChild(backend: string, how: string) {
  const dir = makeTempDir("aw-exit-");
  for (const name of FILES) fs.writeFileSync(path.join(dir, name), "old");
  const result = await run([...scriptCommand(CHILD), backend, dir, how]);
  const contents = Object.fromEntries(
    FILES.map((name) => [name, fs.readFileSync(path.join(dir, name), "utf8")]),
  );
  const temps = leftoverTemps(dir);
  fs.rmSync(dir, { recursive: true, force: true });
  return { ...result, contents, temps };
}

for (const backend of availableBackends()) {
  for (const { how, code } of ENDINGS) {
    test(`${RUNTIME}/${backend}: ${how} with writes in flight removes their temp files`, async () => {
      const result = await runChild(backend, how);
      const detail = `${result.stdout}\n${result.stderr}`;
      assert.equal(result.code, code, detail);
      // Both writes had their temp file on disk when the process ended.
      assert.match(result.stdout, /^temps 2$/m, detail);
      assert.deepEqual(result.temps, [], detail);
      for (const name of FILES) assert.equal(result.contents[name], "old");
    });
  }

  test(`${RUNTIME}/${backend}: an exception the application handles leaves its writes alone`, async () => {
    const result = await runChild(backend, "handled-throw");
    const detail = `${result.stdout}\n${result.stderr}`;
    assert.equal(result.code, 0, detail);
    assert.match(result.stdout, /^done$/m, detail);
    assert.deepEqual(result.temps, [], detail);
    assert.equal(result.contents["stream.txt"], "n".repeat(4 * 256 * 1024));
    assert.equal(result.contents["pending.txt"], "n".repeat(256 * 1024));
    assert.equal(result.contents["sync.txt"], "warm-up");
  });

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    test(`${RUNTIME}/${backend}: ${signal} with no handler kills the process; cleanupTemps removes its temp files`, async () => {
      const dir = makeTempDir("aw-exit-");
      try {
        for (const name of FILES) fs.writeFileSync(path.join(dir, name), "old");
        const result = await signalChild(backend, dir, "wait", signal);
        assert.equal(result.signal, signal, result.output);
        assert.match(result.output, /^temps 2$/m, result.output);
        assert.equal(leftoverTemps(dir).length, 2);
        const removed = await cleanupTemps(dir, { olderThan: 0 });
        assert.equal(removed.length, 2);
        for (const name of FILES) {
          assert.equal(fs.readFileSync(path.join(dir, name), "utf8"), "old");
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    test(`${RUNTIME}/${backend}: ${signal} handled by the application with exit() removes the temp files`, async () => {
      const dir = makeTempDir("aw-exit-");
      try {
        for (const name of FILES) fs.writeFileSync(path.join(dir, name), "old");
        const result = await signalChild(backend, dir, "wait-handled", signal);
        // Not the exit status: Deno's node:child_process reports the signal
        // sent by kill() even when the child's handler exited with 0.
        assert.match(result.output, /^temps 2$/m, result.output);
        assert.match(result.output, new RegExp(`^handled ${signal}$`, "m"));
        assert.deepEqual(leftoverTemps(dir), []);
        for (const name of FILES) {
          assert.equal(fs.readFileSync(path.join(dir, name), "utf8"), "old");
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
}
