/**
 * The package's shape: one name and version in package.json and deno.json,
 * every entry binding every function of the API, and a browser entry with no
 * Deno, Bun or Node backend in its bundle. (The packed tarball itself is
 * tested by the consumer tests.)
 */

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { createAtomicWrite } from "../src/_api.ts";
import type { Backend } from "../src/_backend.ts";
import { ROOT, run } from "./_helpers.ts";

function manifest(name: string) {
  return JSON.parse(fs.readFileSync(path.join(ROOT, name), "utf8"));
}

test("package.json and deno.json give one name and one version", () => {
  const npm = manifest("package.json");
  const jsr = manifest("deno.json");
  assert.equal(npm.name, "@atomic-write/atomic-write");
  assert.equal(npm.name, jsr.name);
  assert.equal(npm.version, jsr.version);
});

test("package.json exports every library subpath that deno.json does", () => {
  const npm = Object.keys(manifest("package.json").exports);
  // The CLI is the npm package's `bin`, not an import.
  const jsr = Object.keys(manifest("deno.json").exports)
    .filter((subpath) => subpath !== "./cli");
  for (const subpath of jsr) assert.ok(npm.includes(subpath), subpath);
});

// The functions are defined once (createAtomicWrite); each entry names them.
// This catches an entry that was not given a new function.
const API = Object.keys(createAtomicWrite(() => ({}) as Backend)).sort();
const ENTRIES = ["mod.ts", "src/auto.ts", "src/browser.ts"]
  .concat(["deno", "bun", "node"].map((name) => `src/${name}.ts`));

for (const entry of ENTRIES) {
  test(`${entry} exports every function of the API`, async () => {
    const module = await import(path.join(ROOT, entry));
    for (const name of API) {
      assert.equal(typeof module[name], "function", `${entry} lacks ${name}`);
    }
  });
}

test("src/opfs.ts exports every asynchronous function of the API", async () => {
  const module = await import(path.join(ROOT, "src/opfs.ts"));
  for (const name of API.filter((name) => !name.endsWith("Sync"))) {
    assert.equal(typeof module[name], "function", `src/opfs.ts lacks ${name}`);
  }
});

test("the browser entry exports what mod.ts exports", async () => {
  const main = await import(path.join(ROOT, "mod.ts"));
  const browser = await import(path.join(ROOT, "src/browser.ts"));
  assert.deepEqual(Object.keys(browser).sort(), Object.keys(main).sort());
});

test("a browser bundle of the browser entry holds only the OPFS backend", async () => {
  const esbuild = path.join(ROOT, "node_modules", ".bin", "esbuild");
  const result = await run([
    esbuild,
    path.join(ROOT, "src", "browser.ts"),
    "--bundle",
    "--format=esm",
    "--platform=browser",
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /createOpfsBackend/);
  assert.doesNotMatch(result.stdout, /create(?:Deno|Bun|Node)Backend/);
  assert.doesNotMatch(
    result.stdout,
    /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\(\s*)["']node:/,
  );
});
