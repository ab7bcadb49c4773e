/**
 * A writer process for the kill demo: saves a self-checking 1 MiB document
 * (see `../opfs/_content.ts`) over and over until it is killed, either with
 * atomic-write's `writeFileSync` or with a plain `fs.writeFileSync` in place.
 * It prints "ready" once the first save is done, so an old version exists.
 *   writer atomic|plain FILE
 */

import * as fs from "node:fs";
import process from "node:process";
import { writeFileSync } from "../../mod.ts";
import { body, header } from "../opfs/_content.ts";

const [mode, file] = process.argv.slice(2);
const content = body("kill demo", 1 << 20);
const save = mode === "atomic"
  ? (data: Uint8Array) => writeFileSync(file, data)
  : (data: Uint8Array) => fs.writeFileSync(file, data);

for (let version = 1;; version++) {
  const head = header(version, content);
  const data = new Uint8Array(head.length + content.length);
  data.set(head);
  data.set(content, head.length);
  save(data);
  if (version === 1) process.stdout.write("ready\n");
}
