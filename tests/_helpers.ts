/** Test helpers shared by every runtime's test run (node: modules only). */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { createAtomicWrite } from "../src/_api.ts";
import { AtomicWriteError } from "../src/errors.ts";
import type { Backend } from "../src/_backend.ts";
import { createBackendFor } from "../src/_select.ts";
import { detectRuntime } from "../src/runtime.ts";

/** The repository root. */
export const ROOT: string = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "..",
);

/** The runtime running the tests. */
export const RUNTIME = detectRuntime();

/** True when the tests run as root (Linux): chown and mounts are possible. */
export const IS_ROOT: boolean = typeof process.getuid === "function" &&
  process.getuid() === 0;

/** Names of the backends that can run in this runtime. */
export type BackendName = "deno" | "bun" | "node";

/** Creates a backend by name. */
export function createBackend(name: BackendName): Backend {
  return createBackendFor(name);
}

/** Every backend this runtime can host: its own, and node:fs everywhere. */
export function availableBackends(): BackendName[] {
  if (RUNTIME === "deno") return ["deno", "node"];
  if (RUNTIME === "bun") return ["bun", "node"];
  return ["node"];
}

/** A backend plus the API bound to it: what the conformance suite tests. */
export interface Subject {
  /** Backend name as the child processes understand it. */
  name: string;
  backend: Backend;
  api: ReturnType<typeof createAtomicWrite>;
}

/** Binds the API to a backend. */
export function subjectFor(name: string, backend: Backend): Subject {
  return { name, backend, api: createAtomicWrite(() => backend) };
}

/** A fresh directory under the OS temp directory. */
export function makeTempDir(prefix = "aw-test-"): string {
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
}

/** Temp files of this library left in a directory. */
export function leftoverTemps(directory: string): string[] {
  return fs.readdirSync(directory).filter((name) =>
    name.endsWith(".atomic-tmp")
  );
}

/** The command that runs a TypeScript file in the current runtime. */
export function scriptCommand(script: string): string[] {
  if (RUNTIME === "deno") {
    return [Deno.execPath(), "run", "-A", script];
  }
  if (RUNTIME === "bun") return [process.execPath, script];
  return [process.execPath, nodeBundle(script)];
}

const bundles = new Map<string, string>();

/**
 * Node 20 runs TypeScript only through a loader, and `--import tsx` costs
 * about a second per child process (the kill test starts hundreds). So a
 * child script is bundled once per test run with esbuild into plain
 * JavaScript in `tests/` (`NAME.PID.node.mjs`, ignored by git), where an
 * `import.meta.url` of the test helpers still points into `tests/`.
 */
function nodeBundle(script: string): string {
  let bundle = bundles.get(script);
  if (!bundle) {
    const esbuild = createRequire(import.meta.url)("esbuild") as {
      buildSync(options: Record<string, unknown>): unknown;
    };
    bundle = path.join(
      ROOT,
      "tests",
      `${path.basename(script, ".ts")}.${process.pid}.node.mjs`,
    );
    esbuild.buildSync({
      entryPoints: [script],
      outfile: bundle,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      packages: "external",
      logLevel: "error",
    });
    bundles.set(script, bundle);
    process.on("exit", () => fs.rmSync(bundle!, { force: true }));
  }
  return bundle;
}

/** Result of a child process. */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, feeding `input` to its stdin. */
export function run(
  command: string[],
  options: {
    input?: string | Uint8Array;
    cwd?: string;
    /** Replaces the child's environment (default: this process's). */
    env?: Record<string, string | undefined>;
  } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0], command.slice(1), {
      cwd: options.cwd ?? ROOT,
      env: options.env ?? process.env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => stdout += chunk);
    child.stderr.on("data", (chunk) => stderr += chunk);
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    // A child that exits before reading its input closes the pipe: that is
    // its business (its exit code tells), not an uncaught EPIPE here.
    child.stdin.on("error", () => {});
    child.stdin.end(options.input ?? "");
  });
}

/** Bytes of a file, as a Uint8Array. */
export function readBytes(file: string): Uint8Array {
  return new Uint8Array(fs.readFileSync(file));
}

/**
 * A test name that carries the reason it is skipped: Deno's and Bun's
 * reporters show a skipped test without node:test's `skip` reason, so the
 * reason goes into the name. Pass the same `reason` as the test's `skip`.
 */
export function nameWithSkipReason(
  name: string,
  reason: string | false | undefined,
): string {
  return reason ? `${name} (skipped: ${reason})` : name;
}

/**
 * Asserts that `action` fails with an AtomicWriteError of this step (and
 * code), whose message quotes the path; returns the error.
 */
export async function rejectsWith(
  action: Promise<unknown> | (() => unknown),
  step: string,
  code?: string,
): Promise<AtomicWriteError> {
  let caught: unknown;
  try {
    await (typeof action === "function" ? action() : action);
  } catch (error) {
    caught = error;
  }
  assert.ok(
    caught instanceof AtomicWriteError,
    `expected an AtomicWriteError, got ${caught}`,
  );
  assert.equal(caught.step, step, caught.message);
  if (code) assert.equal(caught.code, code, caught.message);
  assert.ok(caught.message.includes('"'), "the message quotes the path");
  return caught;
}
