/**
 * Child process for the kill tests: atomically replaces FILE in a loop with
 * self-checking versions 1, 2, 3, ... and prints "ack N" (synchronously, so
 * the parent has it before any kill) after each write resolved. With MODE
 * `append` it appends `appendedLine(N)` instead (`append: true`). With MODE
 * `concurrent` it runs `CONCURRENT_FILES` such loops at once, on the files
 * of `concurrentFiles(FILE)`, which alternate between two directories
 * (durable writes into each directory at the same time: the group commit),
 * with the create and the rename always in the thread pool (`poolPolicy`
 * "spread"), printing "ack I N" for file I and "pooled" once a call went
 * to the pool.
 *
 *   _kill_child.ts BACKEND FILE DURABILITY SIZE [MODE]
 */

import * as fs from "node:fs";
import process from "node:process";
import type { Durability } from "../src/options.ts";
import { appendedLine } from "./_append_versions.ts";
import { poolPolicy } from "../src/_driver.ts";
import { childSubject } from "./_child_backend.ts";
import { concurrentFiles } from "./_concurrent_files.ts";
import { versionContent } from "./_conformance.ts";

const [name, file, durability, size, mode] = process.argv.slice(2);
const { api } = childSubject(name);
const padding = "#".repeat(Number(size));

/** Big versions are streamed in 4 KiB chunks: the write takes longer. */
async function* chunksOf(content: string) {
  for (let i = 0; i < content.length; i += 4096) {
    yield content.slice(i, i + 4096);
  }
}

if (mode === "concurrent") {
  // The pooled path whenever writes span directories, whatever the disk's
  // speed, so that the cuts always test it.
  poolPolicy.mode = "spread";
  let pooledSaid = false;
  await Promise.all(
    concurrentFiles(file).map(async (each, i) => {
      for (let n = 1;; n++) {
        await api.writeFile(each, versionContent("kill", n), {
          durability: durability as Durability,
        });
        fs.writeSync(1, `ack ${i} ${n}\n`);
        if (!pooledSaid && poolPolicy.pooled > 0) {
          pooledSaid = true;
          fs.writeSync(1, "pooled\n");
        }
      }
    }),
  );
}

if (mode === "append") {
  for (let n = 1;; n++) {
    await api.writeFile(file, appendedLine(n), {
      durability: durability as Durability,
      append: true,
    });
    fs.writeSync(1, `ack ${n}\n`);
  }
}

for (let n = 1;; n++) {
  const content = versionContent(`kill${padding}`, n);
  await api.writeFile(file, padding ? chunksOf(content) : content, {
    durability: durability as Durability,
  });
  fs.writeSync(1, `ack ${n}\n`);
}
