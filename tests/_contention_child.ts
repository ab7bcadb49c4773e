/**
 * Child process for the multi-process case.
 *   write BACKEND FILE WRITER COUNT: COUNT atomic replaces of FILE.
 *   read BACKEND FILE DONE_MARKER: reads FILE until DONE_MARKER exists and
 *   prints {"reads": n, "torn": n}.
 */

import * as fs from "node:fs";
import process from "node:process";
import { isWholeVersion, versionContent } from "./_conformance.ts";
import { childSubject } from "./_child_backend.ts";

const [mode, name, file, arg, count] = process.argv.slice(2);
if (mode === "write") {
  const { api } = childSubject(name);
  for (let i = 0; i < Number(count); i++) {
    await api.writeFile(file, versionContent(arg, i));
  }
} else {
  let reads = 0;
  let torn = 0;
  const deadline = Date.now() + 60_000;
  while (!fs.existsSync(arg) && Date.now() < deadline) {
    const content = fs.readFileSync(file, "utf8");
    reads++;
    if (!isWholeVersion(content)) torn++;
    // Let other processes run on a 2-core machine.
    if (reads % 50 === 0) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
  console.log(JSON.stringify({ reads, torn }));
}
