/**
 * Child process for `cleanup_liveness_test.ts`: opens an atomic write of
 * TARGET (a pending temp file), prints "ready" and stays alive until killed.
 *
 *   _liveness_child.ts BACKEND TARGET
 */

import * as fs from "node:fs";
import process from "node:process";
import { childSubject } from "./_child_backend.ts";

const [name, target] = process.argv.slice(2);
const { api } = childSubject(name);
const file = await api.openAtomic(target);
await file.write("pending");
fs.writeSync(1, "ready\n");
setInterval(() => {}, 1 << 30);
