/**
 * Why the xfs rows charge every contender that stats its target (this
 * library, and npm packages that keep a file's mode) for something a real
 * xfs disk would not. The bench's xfs is an image file on ext4, mounted
 * through a loop device. Since Linux 6.13, reading a file's timestamps (any
 * `stat`) makes its next change take a fine-grained time, which raises a
 * clock floor shared by every file system. The loop device's next write to
 * the image file then changes that file's mtime on ext4, and the loop
 * device's flush (the fsync that makes an xfs fsync durable) commits that
 * inode in ext4's journal: one more write on the host disk per durable
 * write. A disk that is a disk has no image file to commit.
 *
 * Sequential 1 KiB replaces at "file" with bare `node:fs` calls (the
 * synchronous inline protocol of `bench/_baselines.ts`: exclusive create,
 * write, fsync, close, rename), with and without one `statSync` of
 * the target before each, in blocks taking turns, medians of 15 rounds; for
 * each, the writes completed per replace by the disk under the directory
 * (for a loop device: the disk under its image file), from
 * `/sys/dev/block/MAJOR:MINOR/stat`.
 *
 * In the runs of 2026-12-01 ~17:30 UTC the stat added ~0.85 host writes and
 * 60-100 µs per replace on the xfs image, and nothing on ext4. The same
 * effect traced in C: 199 of 200 replaces dirtied the image file's ext4
 * inode with a stat before each, 36 of 200 without; a `statx` that asks for
 * no timestamp cost nothing, but no JavaScript runtime can make one.
 *
 *   deno run -A bench/image_timestamps.ts [--dir DIR] [--block N]
 *   bun bench/image_timestamps.ts [...]
 *   node --import tsx bench/image_timestamps.ts [...]
 *
 * Without `--dir`: on a fresh xfs image (root, as `bench/main.ts` makes it)
 * and on the temp directory. Linux only. Not part of `deno task bench`.
 */

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { nodeFsBaselines } from "./_baselines.ts";
import { median, option } from "./_harness.ts";
import { describeFileSystem, mountXfs, xfsUnavailable } from "./_mount.ts";

const BLOCK = Number(option("--block", "100"));
const ROUNDS = 15;
const bytes = new Uint8Array(1024).fill(97);

/** `/sys/dev/block/M:m` of the device holding `file`. */
function blockDevice(file: string): string {
  const dev = Number(fs.statSync(file).dev);
  const major = ((dev >> 8) & 0xfff) | Math.floor(dev / 2 ** 32) & ~0xfff;
  const minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
  return `/sys/dev/block/${major}:${minor}`;
}

/** The disk that really stores `directory`'s writes: below any loop. */
function hostDevice(directory: string): string {
  let device = blockDevice(directory);
  for (let hops = 0; hops < 8; hops++) {
    const backing = `${device}/loop/backing_file`;
    if (!fs.existsSync(backing)) return device;
    device = blockDevice(fs.readFileSync(backing, "utf8").trim());
  }
  return device;
}

/**
 * Writes the device has completed (field 5 of its stat); NaN where there is
 * no block device (tmpfs), so that the output says n/a.
 */
function writesCompleted(device: string): number {
  try {
    return Number(
      fs.readFileSync(`${device}/stat`, "utf8").trim().split(/\s+/)[4],
    );
  } catch {
    return NaN;
  }
}

const perReplace = (value: number) =>
  Number.isNaN(value) ? "n/a" : value.toFixed(2);

const signed = (value: number, digits: number) =>
  Number.isNaN(value)
    ? "n/a"
    : `${value >= 0 ? "+" : ""}${value.toFixed(digits)}`;

function measure(directory: string): void {
  const device = hostDevice(directory);
  const work = fs.mkdtempSync(path.join(directory, "aw-image-timestamps-"));
  const inline = nodeFsBaselines();
  const replace = (target: string, statFirst: boolean) => {
    if (statFirst) fs.statSync(target);
    inline.inlineWriteSync(target, bytes, "file");
  };
  const contenders = [false, true].map((statFirst) => {
    const target = path.join(work, statFirst ? "stat" : "plain");
    fs.writeFileSync(target, bytes);
    return { statFirst, target, times: [] as number[], writes: [] as number[] };
  });
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (let step = 0; step < contenders.length; step++) {
        const contender = contenders[(round + step) % contenders.length];
        const { target } = contender;
        const before = writesCompleted(device);
        const start = performance.now();
        for (let i = 0; i < BLOCK; i++) replace(target, contender.statFirst);
        contender.times.push((performance.now() - start) * 1000 / BLOCK);
        contender.writes.push((writesCompleted(device) - before) / BLOCK);
      }
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  const fileSystem = describeFileSystem(directory);
  const disk = fs.existsSync(device)
    ? fs.realpathSync(device).split("/").pop()
    : "none";
  console.log(
    `${fileSystem.type} at ${directory} (host disk ${disk}), 1 KiB replaces at "file", blocks of ${BLOCK}, medians of ${ROUNDS} rounds:`,
  );
  const [plain, withStat] = contenders.map((contender) => ({
    time: median(contender.times),
    writes: median(contender.writes),
  }));
  console.log(
    `  without a stat  ${plain.time.toFixed(0).padStart(6)} µs, ${
      perReplace(plain.writes)
    } host writes per replace`,
  );
  console.log(
    `  with a stat     ${withStat.time.toFixed(0).padStart(6)} µs, ${
      perReplace(withStat.writes)
    } host writes per replace (${signed(withStat.time - plain.time, 0)} µs, ${
      signed(withStat.writes - plain.writes, 2)
    } writes)`,
  );
}

const dir = option("--dir", "");
if (dir !== "") {
  measure(dir);
} else {
  const why = xfsUnavailable();
  if (why) {
    console.log(`no xfs image: ${why}`);
  } else {
    const xfs = mountXfs(1);
    try {
      measure(xfs.mount);
    } finally {
      xfs.destroy();
    }
  }
  measure(os.tmpdir());
}
