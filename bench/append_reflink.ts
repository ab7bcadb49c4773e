/**
 * Issue 13, target 3: appending 1 KiB to a 64 MiB file with `append: true`
 * should cost O(appended bytes) where the file system can clone (reflink)
 * the old content, and stay a full copy where it cannot.
 *
 * Mounts a fresh xfs image (reflink on, the default of xfsprogs ≥ 5.1) and a
 * fresh ext4 image (no reflink), and on each compares, interleaved in this
 * one process (medians): this library's append at "file" and "full" (async
 * and sync API) against a plain in-place append + fsync, and the floor of
 * any atomic append done by hand. Needs Linux and root (loop mounts).
 *
 *   deno run -A bench/append_reflink.ts [--rounds 15]
 *   bun bench/append_reflink.ts
 *   node --import tsx bench/append_reflink.ts
 *
 * Target: on xfs, the "file" append ≤ 3x the plain append + fsync.
 */

import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { writeFile, writeFileSync } from "../mod.ts";
import { detectRuntime } from "../src/runtime.ts";
import { type Contender, flushDirtyPages, interleave } from "./_harness.ts";

const MiB = 1024 * 1024;
const args = process.argv.slice(2);
const roundsAt = args.indexOf("--rounds");
const ROUNDS = roundsAt >= 0 ? Number(args[roundsAt + 1]) : 15;
const START = 64 * MiB;
const APPENDED = new Uint8Array(1024).fill(0x61);

const sh = (command: string, argv: string[]) =>
  execFileSync(command, argv, { stdio: ["ignore", "pipe", "pipe"] });

/** A loop-mounted image of `type`, removed by `destroy`. */
function mountImage(type: "xfs" | "ext4") {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `aw-bench-${type}-`));
  const image = path.join(dir, "image");
  const mount = path.join(dir, "mnt");
  fs.writeFileSync(image, "");
  // Room for the targets, their growth and one full copy at a time.
  fs.truncateSync(image, 768 * MiB);
  sh(type === "xfs" ? "mkfs.xfs" : "mkfs.ext4", ["-q", image]);
  fs.mkdirSync(mount);
  sh("mount", ["-o", "loop", image, mount]);
  return {
    mount,
    destroy() {
      sh("umount", [mount]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A file of START random-ish bytes (distinct blocks, nothing to dedupe). */
function makeTarget(file: string) {
  const chunk = new Uint8Array(MiB);
  const fd = fs.openSync(file, "w");
  try {
    for (let i = 0; i < START / MiB; i++) {
      crypto.getRandomValues(chunk.subarray(0, 65536));
      fs.writeSync(fd, chunk);
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function plainAppend(file: string) {
  const fd = fs.openSync(file, "a");
  try {
    fs.writeSync(fd, APPENDED);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The floor of an atomic append, by hand: clone (or copy where the file
 * system cannot clone), append, fsync, rename; no checks, no directory fsync.
 */
function cloneAppendByHand(file: string) {
  const temp = `${file}.by-hand`;
  const { COPYFILE_EXCL, COPYFILE_FICLONE } = fs.constants;
  fs.copyFileSync(file, temp, COPYFILE_EXCL | COPYFILE_FICLONE);
  const fd = fs.openSync(temp, "a");
  try {
    fs.writeSync(fd, APPENDED);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temp, file);
}

interface Row {
  filesystem: string;
  name: string;
  median: number;
}

async function measure(type: "xfs" | "ext4"): Promise<Row[]> {
  const image = mountImage(type);
  try {
    const entries: [string, (file: string) => unknown][] = [
      ["plain append + fsync", plainAppend],
      ["clone + append + fsync + rename, by hand", cloneAppendByHand],
      [
        'writeFile append, "file"',
        (file) =>
          writeFile(file, APPENDED, { append: true, durability: "file" }),
      ],
      [
        'writeFileSync append, "file"',
        (file) =>
          writeFileSync(file, APPENDED, { append: true, durability: "file" }),
      ],
      [
        'writeFile append, "full"',
        (file) =>
          writeFile(file, APPENDED, { append: true, durability: "full" }),
      ],
    ];
    const contenders = entries.map(([name, run], index): Contender => {
      const file = path.join(image.mount, `target-${index}`);
      makeTarget(file);
      return {
        name,
        run: async () => await run(file),
        prepare: flushDirtyPages,
      };
    });
    const timings = await interleave(contenders, ROUNDS, 1);
    return timings.map(({ name, median }) => ({
      filesystem: type,
      name,
      median,
    }));
  } finally {
    image.destroy();
  }
}

const milliseconds = (value: number) =>
  value < 1 ? `${(value * 1000).toFixed(0)} µs` : `${value.toFixed(2)} ms`;

if (process.platform !== "linux" || process.getuid?.() !== 0) {
  console.error("append_reflink: needs Linux and root (loop mounts)");
  process.exit(1);
}

const rows = [...await measure("xfs"), ...await measure("ext4")];
console.log(
  `${detectRuntime()}, 1 KiB appended to ${
    START / MiB
  } MiB, medians of ${ROUNDS} rounds`,
);
console.log("| fs | contender | median | ÷ plain append + fsync |");
console.log("| --- | --- | ---: | ---: |");
for (const row of rows) {
  const plain = rows.find((r) =>
    r.filesystem === row.filesystem && r.name.startsWith("plain")
  )!;
  console.log(
    `| ${row.filesystem} | ${row.name} | ${milliseconds(row.median)} | ${
      (row.median / plain.median).toFixed(2)
    }x |`,
  );
}
const xfsFile = rows.find((r) =>
  r.filesystem === "xfs" && r.name === 'writeFile append, "file"'
)!;
const xfsPlain = rows.find((r) =>
  r.filesystem === "xfs" && r.name.startsWith("plain")
)!;
const ratio = xfsFile.median / xfsPlain.median;
console.log(
  `target (xfs, "file" ≤ 3x plain): ${ratio <= 3 ? "met" : "MISSED"} — ${
    ratio.toFixed(2)
  }x`,
);
