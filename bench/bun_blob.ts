/**
 * Why the Bun backend writes Blobs with `Bun.write(Bun.file(fd), blob)`:
 * compares it with streaming the Blob through the node:fs primitives, in one
 * process, interleaved rounds, medians and the ratio.
 *
 *   bun bench/bun_blob.ts
 */

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createAtomicWrite } from "../src/_api.ts";
import { createBunBackend } from "../src/backends/bun.ts";
import { createNodeBackend } from "../src/backends/node.ts";

const contenders = {
  "Bun.write to the fd": createAtomicWrite(createBunBackend),
  "blob.stream() + fs.write": createAtomicWrite(createNodeBackend),
};
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aw-bench-"));
const rounds = 7;
for (const size of [1024, 1024 * 1024, 64 * 1024 * 1024]) {
  const blob = new Blob([new Uint8Array(size).fill(97)]);
  const times: Record<string, number[]> = {};
  for (let round = 0; round < rounds; round++) {
    for (const [name, api] of Object.entries(contenders)) {
      const repeat = size < 1024 * 1024
        ? 200
        : size < 64 * 1024 * 1024
        ? 20
        : 1;
      const start = performance.now();
      for (let i = 0; i < repeat; i++) {
        await api.writeFile(path.join(dir, "target"), blob, {
          durability: "none",
        });
      }
      (times[name] ??= []).push((performance.now() - start) / repeat);
    }
  }
  const median = (values: number[]) =>
    values.sort((a, b) => a - b)[values.length >> 1];
  const [fast, slow] = Object.keys(contenders).map((name) =>
    median(times[name])
  );
  console.log(
    `${size} B Blob: Bun.write ${fast.toFixed(3)} ms, stream ${
      slow.toFixed(3)
    } ms, ratio ${(fast / slow).toFixed(2)}`,
  );
}
fs.rmSync(dir, { recursive: true });
