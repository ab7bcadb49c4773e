/**
 * Child process for the locked-update cases (`update_lock_test.ts`).
 *   update FILE COUNT DIR ID: waits for DIR/go (after creating DIR/ready-ID),
 *     then COUNT locked increments of the JSON counter in FILE.
 *   plain FILE COUNT DIR ID: the same with a plain read and write (the
 *     negative control: increments get lost).
 *   hold FILE: takes the file's lock, prints "held" and sleeps.
 */

import * as fs from "node:fs";
import process from "node:process";
import { lockFile, updateTextFile, writeTextFile } from "../mod.ts";

const [mode, file, count, dir, id] = process.argv.slice(2);

function increment(old: string | undefined): string {
  const counter = old === undefined ? { n: 0 } : JSON.parse(old);
  counter.n++;
  return JSON.stringify(counter);
}

if (mode === "hold") {
  await lockFile(file);
  console.log("held");
  await new Promise(() => setInterval(() => {}, 60_000));
} else {
  fs.writeFileSync(`${dir}/ready-${id}`, "");
  while (!fs.existsSync(`${dir}/go`)) {
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  for (let i = 0; i < Number(count); i++) {
    if (mode === "update") {
      await updateTextFile(file, increment);
    } else {
      let old: string | undefined;
      try {
        old = fs.readFileSync(file, "utf8");
      } catch {
        old = undefined;
      }
      await writeTextFile(file, increment(old));
    }
  }
}
