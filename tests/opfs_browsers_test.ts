/**
 * The npm package in real browsers (Chromium, Firefox ESR, WebKitGTK; see
 * `_browsers.ts`), as a user gets it: packed, installed into a fresh consumer
 * project (`_packed.ts`) and bundled there by esbuild and Vite with their
 * default settings (`_browser_bundles.ts`). The test pages (`browser/`) are
 * bundled from this repository, but their imports of the package load the
 * esbuild bundles at run time: the root entry (through the package's
 * `browser` condition) for the portable cases, page and dedicated worker,
 * and `./opfs` for the engine traps (three writing contexts, a worker
 * terminated mid-write), the quota failures (Chromium, Firefox) and the
 * browser kill. Every bundle, Vite's too, loads and passes a smoke case in
 * a page and a worker of each engine. Runs in the Node pass only (one driver
 * process is enough); an engine that is not installed is skipped with the
 * reason.
 */

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { after, before, test } from "node:test";
import {
  bundleLibrary,
  bundleProblems,
  type LibraryBundle,
  libraryUrl,
  withEsbuild,
} from "./_browser_bundles.ts";
import {
  type Engine,
  engineMissing,
  type Harness,
  type Results,
  startHarness,
} from "./_browsers.ts";
import { nameWithSkipReason, ROOT, RUNTIME } from "./_helpers.ts";
import { type Consumer, packedConsumer } from "./_packed.ts";

const onlyNode = RUNTIME === "node"
  ? undefined
  : "browser tests run once, in the Node pass";
let consumer: Consumer;
let bundles: LibraryBundle[] = [];
let harness: Harness | undefined;

before(async () => {
  if (onlyNode) return;
  consumer = await packedConsumer();
  bundles = await bundleLibrary(consumer);
  const entry = (file: string) => path.join(ROOT, "tests/browser", file);
  harness = await startHarness(
    {
      page: entry("_page.ts"),
      worker: entry("_worker.ts"),
      traps: entry("_traps.ts"),
      trap_worker: entry("_trap_worker.ts"),
      crash: entry("_crash.ts"),
      crash_worker: entry("_crash_worker.ts"),
      shared_worker: entry("_shared_worker.ts"),
      smoke: entry("_smoke.ts"),
      smoke_worker: entry("_smoke_worker.ts"),
    },
    {
      "/": "page.js",
      "/traps": "traps.js",
      "/crash": "crash.js",
      "/smoke": "smoke.js",
    },
    8734,
    {
      files: Object.fromEntries(bundles.map((b) => [b.url, b.code])),
      imports: {
        "@atomic-write/atomic-write": libraryUrl("esbuild", "root"),
        "@atomic-write/atomic-write/opfs": libraryUrl("esbuild", "opfs"),
        // The portable cases take the error class from the sources (for the
        // file system backends); in the browser it must be the package's.
        "../src/errors.ts": libraryUrl("esbuild", "root"),
      },
    },
  );
});

after(() => harness?.close());

test(
  nameWithSkipReason(
    "the browser bundles are built from the installed package only",
    onlyNode,
  ),
  { skip: onlyNode ?? false },
  () => {
    assert.equal(bundles.length, 4);
    for (const bundle of bundles) {
      const gzip = gzipSync(bundle.code, { level: 9 }).length;
      console.log(
        `${bundle.bundler} bundle of ${bundle.entry}: ${bundle.inputs.length} modules, ${bundle.code.length} bytes (${gzip} gzipped, not minified)`,
      );
      assert.deepEqual(bundleProblems(bundle), [], bundle.url);
    }
    // The pages themselves hold none of the library: only its bundles do.
    const sources = harness!.inputs.filter((input) =>
      input === path.join(ROOT, "mod.ts") ||
      input.startsWith(path.join(ROOT, "src") + path.sep)
    );
    assert.deepEqual(sources, []);
  },
);

test(
  nameWithSkipReason(
    "a bundle of this repository's sources is told apart (negative control)",
    onlyNode,
  ),
  { skip: onlyNode ?? false },
  async () => {
    const sources = await withEsbuild(consumer, "root", {
      "@atomic-write/atomic-write": path.join(ROOT, "src", "browser.ts"),
    });
    const problems = bundleProblems(sources);
    assert.ok(
      problems.some((problem) => problem.includes("not the package's dist/")),
      problems.join("\n"),
    );
    // And a root entry without the browser condition pulls in the backends.
    const unconditioned = await withEsbuild(consumer, "root", {
      "@atomic-write/atomic-write": path.join(
        consumer.packageDirectory,
        "dist",
        "mod.js",
      ),
    });
    assert.ok(
      bundleProblems(unconditioned).some((p) => p.includes("not for browsers")),
    );
  },
);

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
  test(
    nameWithSkipReason(
      `esbuild and Vite bundles of the package load and work in ${engine} (page and worker)`,
      skip,
    ),
    { skip, timeout: 120_000 },
    async () => {
      const query = bundles.map((b) => `bundle=${encodeURIComponent(b.url)}`);
      report(engine, await harness!.open(engine, `/smoke?${query.join("&")}`));
    },
  );
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

for (const engine of ["chromium", "firefox", "webkit"] as Engine[]) {
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
          await harness!.open(engine, `/crash?phase=check&engine=${engine}`, {
            profile,
          }),
        );
      } finally {
        fs.rmSync(profile, { recursive: true, force: true });
      }
    },
  );
}
