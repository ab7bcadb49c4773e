/**
 * The OPFS backend in real browsers (Chromium, Firefox ESR, WebKitGTK; see
 * `_browsers.ts`). Each engine runs the OPFS cases in a page and in a
 * dedicated worker, then the engine traps (three writing contexts, a worker
 * terminated mid-write); Chromium and Firefox also a quota failure. Runs in
 * the Node pass only (one driver process is enough); an engine that is not
 * installed is skipped with the reason.
 */

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import {
  type Engine,
  engineMissing,
  type Harness,
  type Results,
  startHarness,
} from "./_browsers.ts";
import { nameWithSkipReason, ROOT, RUNTIME } from "./_helpers.ts";

const onlyNode = RUNTIME === "node"
  ? undefined
  : "browser tests run once, in the Node pass";
let harness: Harness | undefined;

before(async () => {
  if (onlyNode) return;
  const entry = (file: string) => path.join(ROOT, "tests/browser", file);
  harness = await startHarness(
    {
      page: entry("_page.ts"),
      worker: entry("_worker.ts"),
      traps: entry("_traps.ts"),
      trap_worker: entry("_trap_worker.ts"),
      crash: entry("_crash.ts"),
      shared_worker: entry("_shared_worker.ts"),
    },
    { "/": "page.js", "/traps": "traps.js", "/crash": "crash.js" },
    8734,
  );
});

after(() => harness?.close());

/** Logs and asserts every case of every context in `results`. */
function report(engine: string, results: Results): void {
  for (const [context, outcome] of Object.entries(results)) {
    assert.ok(Array.isArray(outcome), `${engine} ${context}: ${outcome}`);
    const passed = outcome.filter((r) => r.status === "passed").length;
    console.log(
      `opfs, ${engine} ${context}: ${passed} of ${outcome.length} cases passed`,
    );
    for (const result of outcome) {
      if (result.status === "failed") {
        console.log(`  FAILED ${result.name}: ${result.detail}`);
      } else if (result.detail) {
        console.log(`  ${result.name}: ${result.detail}`);
      }
    }
    assert.equal(passed, outcome.length, `${engine} ${context}`);
  }
}

for (const engine of ["chromium", "firefox", "webkit"] as Engine[]) {
  const skip = onlyNode ?? engineMissing(engine) ?? false;
  test(nameWithSkipReason(`OPFS cases in ${engine} (page and worker)`, skip), {
    skip,
    timeout: 120_000,
  }, async () => report(engine, await harness!.open(engine, "/")));
  test(nameWithSkipReason(`OPFS engine traps in ${engine}`, skip), {
    skip,
    timeout: 120_000,
  }, async () => report(engine, await harness!.open(engine, "/traps")));
}

const chromiumSkip = onlyNode ?? engineMissing("chromium") ?? false;
test(
  nameWithSkipReason(
    "OPFS quota error in chromium (CDP quota override)",
    chromiumSkip,
  ),
  { skip: chromiumSkip, timeout: 120_000 },
  async () =>
    report(
      "chromium",
      await harness!.open("chromium", "/traps?suite=quota", {
        quotaBytes: 4 * 1024 * 1024,
      }),
    ),
);

const firefoxSkip = onlyNode ?? engineMissing("firefox") ?? false;
test(
  nameWithSkipReason("OPFS quota error in firefox (quota pref)", firefoxSkip),
  { skip: firefoxSkip, timeout: 120_000 },
  async () =>
    report(
      "firefox",
      await harness!.open("firefox", "/traps?suite=quota", {
        firefoxPrefs: { "dom.quotaManager.temporaryStorage.fixedLimit": 4096 },
      }),
    ),
);

for (const engine of ["chromium", "firefox"] as Engine[]) {
  const skip = onlyNode ?? engineMissing(engine) ?? false;
  test(
    nameWithSkipReason(
      `${engine} killed mid-write, relaunched on the same profile and origin`,
      skip,
    ),
    { skip, timeout: 120_000 },
    async () => {
      const profile = fs.mkdtempSync(path.join(os.tmpdir(), "aw-crash-"));
      try {
        report(
          engine,
          await harness!.open(engine, "/crash?phase=write", {
            profile,
            kill: true,
          }),
        );
        report(
          engine,
          await harness!.open(engine, "/crash?phase=check", { profile }),
        );
      } finally {
        fs.rmSync(profile, { recursive: true, force: true });
      }
    },
  );
}
