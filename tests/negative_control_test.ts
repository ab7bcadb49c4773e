/**
 * The negative control: every atomicity case of the conformance suite must
 * FAIL against a backend that writes in place. If one passed, that case could
 * not catch a broken protocol.
 */

import assert from "node:assert/strict";
import * as fs from "node:fs";
import { test } from "node:test";
import { cases } from "./_conformance.ts";
import {
  IS_ROOT,
  makeTempDir,
  nameWithSkipReason,
  subjectFor,
} from "./_helpers.ts";
import { createInPlaceBackend } from "./_in_place_backend.ts";

const subject = subjectFor("in-place", createInPlaceBackend());

for (const testCase of cases.filter((c) => c.atomicity)) {
  const reason = testCase.skip?.(subject);
  test(
    nameWithSkipReason(
      `negative control: "${testCase.name}" fails for an in-place write`,
      reason,
    ),
    { skip: reason ?? false, timeout: testCase.timeout ?? 30_000 },
    async () => {
      const dir = makeTempDir();
      try {
        await assert.rejects(
          () => testCase.run(subject, dir),
          assert.AssertionError,
          "the case passed although the write was in place",
        );
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  );
}

test("negative control covers the atomicity cases", () => {
  const names = cases.filter((c) => c.atomicity).map((c) => c.name);
  assert.ok(names.length >= (IS_ROOT ? 5 : 4), names.join(", "));
});
