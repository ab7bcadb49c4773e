/**
 * Why the OPFS backend writes temp files through a sync access handle in a
 * dedicated worker: FileSystemSyncAccessHandle against createWritable() for
 * a new file, Chromium and Firefox (WebKit has no sync handles).
 *
 *   node --import tsx bench/opfs_sync_handle.ts
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
    sync_page: path.join(here, "opfs/_sync_handle_page.ts"),
    sync_worker: path.join(here, "opfs/_sync_handle.ts"),
  },
  { "/": "sync_page.js" },
  8738,
);

console.log(
  "| engine | size | createWritable (ms) | sync access handle (ms) | ratio |",
);
console.log("| --- | --- | --- | --- | --- |");
try {
  for (const engine of ["chromium", "firefox"] as Engine[]) {
    if (engineMissing(engine)) continue;
    const { worker } = await harness.open(engine, "/", { timeout: 300_000 });
    if (typeof worker === "string") {
      console.log(`| ${engine} | ${worker} | | | |`);
      continue;
    }
    for (const row of worker as unknown as Record<string, number | string>[]) {
      const ms = (value: unknown) => (value as number).toFixed(2);
      console.log(
        `| ${engine} | ${row.size} | ${ms(row.writable)} | ${ms(row.sync)} | ${
          (row.ratio as number).toFixed(2)
        } |`,
      );
    }
  }
} finally {
  harness.close();
}
