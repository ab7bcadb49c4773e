/** Dedicated worker entry: runs the cases and posts the results back. */

import { runCases } from "./_opfs_cases.ts";

postMessage(await runCases("worker", (message) => postMessage(message)));
