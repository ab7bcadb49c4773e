/**
 * Multi-process contention: 8 writer processes and 3 reader processes on one
 * file, a fixed number of writes each. No reader may ever see a torn file and
 * the final content must be one whole version.
 */

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { isWholeVersion, versionContent } from "./_conformance.ts";
import {
  availableBackends,
  makeTempDir,
  ROOT,
  run,
  RUNTIME,
  scriptCommand,
} from "./_helpers.ts";

const WRITERS = 8;
const READERS = 3;
const WRITES = 50;

test(
  `${WRITERS} ${RUNTIME} writers and ${READERS} readers on one file: no torn read`,
  { timeout: 300_000 },
  async () => {
    const dir = makeTempDir("aw-contention-");
    try {
      const file = path.join(dir, "shared.txt");
      fs.writeFileSync(file, versionContent("initial", 0));
      const script = path.join(ROOT, "tests", "_contention_child.ts");
      const backend = availableBackends()[0];
      const done = path.join(dir, "writers-done");
      const readers = Array.from(
        { length: READERS },
        () => run([...scriptCommand(script), "read", backend, file, done]),
      );
      const writers = Array.from({ length: WRITERS }, (_, i) =>
        run([
          ...scriptCommand(script),
          "write",
          backend,
          file,
          `w${i}`,
          String(WRITES),
        ]));
      const written = await Promise.all(writers);
      fs.writeFileSync(done, "");
      const read = await Promise.all(readers);
      for (const result of [...written, ...read]) {
        assert.equal(result.code, 0, result.stderr + result.stdout);
      }
      const reports = read.map((r) => JSON.parse(r.stdout));
      console.log(`contention, ${RUNTIME}: ${JSON.stringify(reports)}`);
      assert.deepEqual(reports.map((r) => r.torn), [0, 0, 0]);
      assert.ok(reports.every((r) => r.reads > 0));
      const final = fs.readFileSync(file, "utf8");
      assert.ok(isWholeVersion(final), "the final content is one version");
      assert.match(final, new RegExp(`\\|w\\d:${WRITES - 1}:`), "a last write");
      assert.deepEqual(
        fs.readdirSync(dir).filter((n) => n.endsWith(".atomic-tmp")),
        [],
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);
