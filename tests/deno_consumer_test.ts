/**
 * What a Deno user of the JSR package sees: a project with no
 * `compilerOptions` (so Deno's default libs, no DOM) type-checks every export
 * of deno.json, the OPFS ones included, with zero errors. The repository's
 * own deno.json adds the DOM libs, so `deno check` here cannot show this.
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { makeTempDir, nameWithSkipReason, ROOT, RUNTIME } from "./_helpers.ts";

/** The entry files that deno.json exports, e.g. `./src/deno.ts`. */
function exportedFiles(): string[] {
  const config = JSON.parse(
    fs.readFileSync(path.join(ROOT, "deno.json"), "utf8"),
  );
  const exports: string | Record<string, string> = config.exports;
  return typeof exports === "string" ? [exports] : Object.values(exports);
}

const skip = RUNTIME === "deno"
  ? false
  : "it runs Deno's type checker, so it runs in the Deno pass";

/** `deno check`s a project that imports every export: no errors, exit 0. */
function checkConsumer(config: Record<string, unknown>): void {
  const files = exportedFiles();
  assert.ok(files.includes("./mod.ts"), `deno.json exports ${files}`);
  const dir = makeTempDir("aw-deno-consumer-");
  try {
    // No node_modules directory to create beside the project.
    fs.writeFileSync(
      path.join(dir, "deno.json"),
      JSON.stringify({ nodeModulesDir: "none", ...config }),
    );
    const imports = files.map((file, i) =>
      `import * as entry${i} from "${
        pathToFileURL(path.join(ROOT, file)).href
      }";\nconsole.log(entry${i});\n`
    );
    fs.writeFileSync(path.join(dir, "main.ts"), imports.join(""));
    const result = spawnSync(
      Deno.execPath(),
      ["check", "--no-lock", "main.ts"],
      { cwd: dir, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } },
    );
    const output = `${result.stdout}${result.stderr}`;
    const errors = output.match(/^TS\d+ \[ERROR\]/gm) ?? [];
    assert.equal(errors.length, 0, `${errors.length} type errors:\n${output}`);
    assert.equal(result.status, 0, output);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test(
  nameWithSkipReason(
    "a Deno project with no compilerOptions type-checks every export",
    skip,
  ),
  { skip, timeout: 120_000 },
  () => checkConsumer({}),
);

// A worker's lib has no window-only globals (unload events, `window`).
test(
  nameWithSkipReason(
    'a Deno project with lib ["deno.worker"] type-checks every export',
    skip,
  ),
  { skip, timeout: 120_000 },
  () => checkConsumer({ compilerOptions: { lib: ["deno.worker"] } }),
);
