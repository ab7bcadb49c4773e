/**
 * The cost of an atomic OPFS write next to a plain `createWritable()` write,
 * in Chromium, Firefox ESR and WebKitGTK, page and worker, 1 KiB and 64 MiB.
 *
 *   node --import tsx bench/opfs.ts
 */

import * as path from "node:path";
import { fileURLToPath } from "node:url";
import {
  type Engine,
  engineMissing,
  startHarness,
} from "../tests/_browsers.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const harness = await startHarness(
  {
    bench_page: path.join(here, "opfs/_page.ts"),
    bench_worker: path.join(here, "opfs/_worker.ts"),
  },
  { "/": "bench_page.js" },
  8737,
);

console.log(
  "| engine | context | size | plain createWritable (ms) | atomic writeFile (ms) | ratio |",
);
console.log("| --- | --- | --- | --- | --- | --- |");
try {
  for (const engine of ["chromium", "firefox", "webkit"] as Engine[]) {
    const missing = engineMissing(engine);
    if (missing) {
      console.log(`| ${engine} | skipped: ${missing} | | | | |`);
      continue;
    }
    const results = await harness.open(engine, "/", { timeout: 300_000 });
    for (const rows of Object.values(results)) {
      for (const row of rows as unknown as Record<string, number | string>[]) {
        const ms = (value: unknown) => (value as number).toFixed(2);
        console.log(
          `| ${engine} | ${row.context} | ${row.size} | ${ms(row.plain)} | ${
            ms(row.atomic)
          } | ${(row.ratio as number).toFixed(2)} |`,
        );
      }
    }
  }
} finally {
  harness.close();
}
