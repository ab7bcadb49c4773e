/**
 * The README's options table is the one the option rules and their docs
 * generate, and every option has docs.
 */

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { OPTION_DOCS, optionsTable } from "../src/_option_docs.ts";
import { optionNames } from "../src/_option_rules.ts";
import { ROOT } from "./_helpers.ts";

/** Table rows as cell lists, ignoring the padding `deno fmt` adds. */
function rows(table: string): string[][] {
  return table.trim().split("\n").filter((line) => !/^\|[\s|-]+\|$/.test(line))
    .map((line) =>
      line.split(" | ").map((cell) => cell.replace(/^\|?\s*|\s*\|?$/g, ""))
    );
}

test("the README options table is generated from the option rules and docs", () => {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const match = /<!-- options:start -->([\s\S]*?)<!-- options:end -->/.exec(
    readme,
  );
  assert.ok(
    match,
    "README has <!-- options:start --> ... <!-- options:end -->",
  );
  assert.deepEqual(
    rows(match[1]),
    rows(optionsTable()),
    "README options table is stale: run `deno task docs`",
  );
});

test("src/_option_docs.ts documents exactly the options of src/_option_rules.ts", () => {
  assert.deepEqual(Object.keys(OPTION_DOCS).sort(), optionNames().sort());
});
