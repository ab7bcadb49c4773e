/**
 * Runtime detection, backend selection, the Deno permission error, and the
 * browser bundle that must not pull `node:` modules.
 */

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { AtomicWriteError, detectRuntime, writeFile } from "../mod.ts";
import {
  makeTempDir,
  nameWithSkipReason,
  ROOT,
  run,
  RUNTIME,
} from "./_helpers.ts";

const g = globalThis as Record<string, unknown>;

test("detectRuntime names the runtime running the tests", () => {
  const expected = "Deno" in g ? "deno" : "Bun" in g ? "bun" : "node";
  assert.equal(detectRuntime(), expected);
});

test("mod.ts writes through the detected runtime's backend", async () => {
  const dir = makeTempDir();
  try {
    await writeFile(path.join(dir, "f"), "auto");
    assert.equal(fs.readFileSync(path.join(dir, "f"), "utf8"), "auto");
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
});

test("the subpath entry of this runtime writes", async () => {
  const entry = await import(`../src/${RUNTIME}.ts`);
  const dir = makeTempDir();
  try {
    entry.writeFileSync(path.join(dir, "f"), "bound");
    assert.equal(fs.readFileSync(path.join(dir, "f"), "utf8"), "bound");
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
});

const notDeno = RUNTIME === "deno"
  ? undefined
  : "Deno permissions exist only in Deno";
test(
  nameWithSkipReason(
    "Deno without --allow-write gets an error naming the missing permission",
    notDeno,
  ),
  { skip: notDeno ?? false },
  async () => {
    const dir = makeTempDir();
    try {
      const file = path.join(dir, "target.txt");
      fs.writeFileSync(file, "old");
      const script = `import { writeFile, AtomicWriteError } from ${
        JSON.stringify(path.join(ROOT, "mod.ts"))
      };
        try { await writeFile(${JSON.stringify(file)}, "new"); }
        catch (e) { console.log(JSON.stringify({ step: e.step, code: e.code, message: e.message, typed: e instanceof AtomicWriteError })); }`;
      const scriptFile = path.join(dir, "child.ts");
      fs.writeFileSync(scriptFile, script);
      const result = await run([
        Deno.execPath(),
        "run",
        "--allow-read",
        scriptFile,
      ]);
      const report = JSON.parse(result.stdout);
      assert.equal(report.typed, true, result.stdout + result.stderr);
      assert.equal(report.code, "NotCapable");
      assert.match(report.message, /--allow-write/);
      assert.match(report.message, new RegExp(file.replace(/[.]/g, "\\.")));
      assert.equal(fs.readFileSync(file, "utf8"), "old");
      assert.deepEqual(fs.readdirSync(dir).sort(), ["child.ts", "target.txt"]);
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  },
);

test("a browser bundle of mod.ts contains no node: import", async () => {
  const esbuild = path.join(ROOT, "node_modules", ".bin", "esbuild");
  const result = await run([
    esbuild,
    path.join(ROOT, "mod.ts"),
    "--bundle",
    "--format=esm",
    "--platform=browser",
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.ok(result.stdout.includes("writeFile"), "the bundle holds the API");
  // `process.getBuiltinModule("node:fs")` is a string, not an import.
  assert.doesNotMatch(
    result.stdout,
    /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\(\s*)["']node:/,
  );
});

test("AtomicWriteError carries path, step, code and cause", () => {
  const cause = Object.assign(new Error("disk on fire"), { code: "EIO" });
  const error = new AtomicWriteError("/x/y", "sync", cause);
  assert.equal(error.name, "AtomicWriteError");
  assert.equal(error.path, "/x/y");
  assert.equal(error.step, "sync");
  assert.equal(error.code, "EIO");
  assert.equal(error.cause, cause);
  assert.equal(
    error.message,
    'Cannot write "/x/y": sync failed (EIO): disk on fire',
  );
});
