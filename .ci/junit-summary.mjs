// Sums JUnit XML reports: prints one line per report and, last, the one
// closing line "N passed, N failed, N skipped" that CI reads.
// Usage: node .ci/junit-summary.mjs REPORT.xml...
import { readFileSync } from "node:fs";

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of process.argv.slice(2)) {
  let xml = "";
  try {
    xml = readFileSync(file, "utf8");
  } catch {
    console.log(`${file}: missing report (counted as one failure)`);
    failed++;
    continue;
  }
  const counts = { passed: 0, failed: 0, skipped: 0 };
  // Each <testcase ...>...</testcase> or <testcase .../> is one test.
  const cases = xml.match(/<testcase\b[^>]*?(?:\/>|>[\s\S]*?<\/testcase>)/g) ??
    [];
  for (const testcase of cases) {
    if (/<(failure|error)\b/.test(testcase)) counts.failed++;
    else if (/<skipped\b/.test(testcase)) counts.skipped++;
    else counts.passed++;
  }
  console.log(
    `${file}: ${counts.passed} ok / ${counts.failed} not ok / ${counts.skipped} skipped`,
  );
  passed += counts.passed;
  failed += counts.failed;
  skipped += counts.skipped;
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
