// Sums the JUnit XML reports of one test run and prints, last, the one line
// CI reads: "N passed, N failed, N skipped".
//
// Usage: node .ci/junit-summary.mjs DIR
//
// For every runner NAME, DIR holds NAME.xml (its JUnit report) and NAME.exit
// (its exit status). A <testcase> with <failure> or <error> counts as failed,
// one with <skipped> as skipped, any other as passed. A runner whose report is
// missing or unreadable, or that exited non-zero without reporting a failed
// test case (a file that did not load, a crash between tests), counts one
// failed test more, so the closing line never reads "0 failed" for a failed
// run. Exits 1 if anything failed or nothing passed.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node .ci/junit-summary.mjs DIR");
  process.exit(2);
}

const names = [
  ...new Set(
    readdirSync(dir)
      .filter((file) => /\.(xml|exit)$/.test(file))
      .map((file) => file.replace(/\.(xml|exit)$/, "")),
  ),
].sort();

// Attribute values may hold a raw ">" (Node's reporter leaves it unescaped),
// so a start tag is matched attribute by attribute, not as [^>]*.
const ATTRIBUTES = String.raw`(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*`;
const TESTCASE = new RegExp(
  String.raw`<testcase\b(${ATTRIBUTES})(?:\/>|>([\s\S]*?)<\/testcase>)`,
  "g",
);

function decode(text) {
  return text.replace(
    /&(lt|gt|quot|apos|amp|#\d+|#x[0-9a-f]+);/gi,
    (_, e) =>
      ({ lt: "<", gt: ">", quot: '"', apos: "'", amp: "&" })[e] ??
        String.fromCodePoint(
          e[1] === "x" || e[1] === "X"
            ? parseInt(e.slice(2), 16)
            : parseInt(e.slice(1), 10),
        ),
  );
}

function attribute(attributes, name) {
  const match = new RegExp(String.raw`\s${name}\s*=\s*("([^"]*)"|'([^']*)')`)
    .exec(attributes);
  return match ? decode(match[2] ?? match[3]) : undefined;
}

let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];

for (const name of names) {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  const notes = [];
  const exitFile = join(dir, `${name}.exit`);
  const exit = existsSync(exitFile)
    ? Number(readFileSync(exitFile, "utf8").trim())
    : 0;
  let xml;
  try {
    xml = readFileSync(join(dir, `${name}.xml`), "utf8");
  } catch {
    notes.push("no report");
  }
  for (const [, attributes, body = ""] of xml?.matchAll(TESTCASE) ?? []) {
    if (/<(failure|error)\b/.test(body)) {
      counts.failed++;
      const suite = attribute(attributes, "classname") ?? "";
      const test = attribute(attributes, "name") ?? "(unnamed)";
      failures.push(
        `${name}: ${test}${suite && suite !== "test" ? `  (${suite})` : ""}`,
      );
    } else if (/<skipped\b/.test(body)) counts.skipped++;
    else counts.passed++;
  }
  if (
    xml !== undefined && counts.passed + counts.failed + counts.skipped === 0
  ) {
    notes.push("no test cases in the report");
  }
  if ((exit !== 0 || xml === undefined) && counts.failed === 0) {
    counts.failed++;
    const why = xml === undefined
      ? "no report"
      : `exited ${exit} without a failed test case in its report`;
    failures.push(`${name}: the runner itself (${why}; see its output above)`);
  }
  console.log(
    `- ${name}: ${counts.passed} ok, ${counts.failed} not ok, ` +
      `${counts.skipped} skipped; exit status ${exit}` +
      (notes.length ? ` (${notes.join("; ")})` : ""),
  );
  passed += counts.passed;
  failed += counts.failed;
  skipped += counts.skipped;
}

if (failures.length > 0) {
  console.log("Failed:");
  for (const failure of failures) console.log(`  ${failure}`);
}
if (passed === 0) console.log("No test passed: the run counts as failed.");
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
