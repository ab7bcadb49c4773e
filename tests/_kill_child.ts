/**
 * Child process for the kill tests: atomically replaces FILE in a loop with
 * self-checking versions 1, 2, 3, ... and prints "ack N" (synchronously, so
 * the parent has it before any kill) after each write resolved. With MODE
 * `append` it appends `appendedLine(N)` instead (`append: true`). With MODE
 * `concurrent` it runs `CONCURRENT_FILES` such loops at once, on FILE-0,
 * FILE-1, ... in FILE's directory (durable writes into one directory at the
 * same time: the group commit), printing "ack I N" for file I.
 *
 *   _kill_child.ts BACKEND FILE DURABILITY SIZE [MODE]
 */

import * as fs from "node:fs";
import process from "node:process";
import type { Durability } from "../src/options.ts";
import { appendedLine } from "./_append_versions.ts";
import { childSubject } from "./_child_backend.ts";
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

/** Files written at once in the `concurrent` mode. */
const CONCURRENT_FILES = 8;

if (mode === "concurrent") {
  await Promise.all(
    Array.from({ length: CONCURRENT_FILES }, async (_, i) => {
      for (let n = 1;; n++) {
        await api.writeFile(`${file}-${i}`, versionContent("kill", n), {
          durability: durability as Durability,
        });
        fs.writeSync(1, `ack ${i} ${n}\n`);
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
