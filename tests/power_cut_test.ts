/**
 * Power cuts on real kernel file systems (Linux, root). ext4 and xfs images
 * are loop-mounted; a writer loops atomic replaces; the parent freezes it
 * (SIGSTOP, so nothing is acknowledged after the cut), cuts power with
 * `xfs_io -x -c shutdown` (FS_IOC_SHUTDOWN without log flush), kills it,
 * remounts and checks the target.
 *
 * Runs in the Deno test run (one runtime is enough for the kernel's side and
 * keeps CI short); skips with the reason where loop mounts are impossible.
 * POWER_CUTS sets the cuts per file system for durability "full" (default
 * 60); CONTROL_CUTS those of each weaker level (default 40); APPEND_CUTS
 * those of the append case on xfs (default 60), where `append: true` clones
 * the old file with a reflink and appends to the clone; CONCURRENT_CUTS those
 * of the concurrent case (default 60 per file system and level; 100 cuts of
 * its control at "file" lost 11 and 16 of 800 files), where 8 writers
 * replace 8 files in two directories at once, so that their directory fsyncs
 * are shared (the group commit, `src/_group_commit.ts`) and their creates and
 * renames run in the thread pool (`_concurrent_files.ts`).
 * POWER_CUT_FILESYSTEMS limits the run to "ext4" or "xfs" (the append case
 * is on xfs only).
 *
 * Levels: "full", "file" (no directory fsync), "none" (no fsync at all) and
 * "no-file-fsync" ("full" without the temp file's fsync, a broken protocol).
 * Each test prints one line `power cuts: {json}` with the file system, the
 * level and the counts, for the README's crash-safety table.
 */

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import { test } from "node:test";
import { APPEND_BASE, appendedCount } from "./_append_versions.ts";
import {
  CONCURRENT_FILES,
  concurrentDirectories,
  concurrentFiles,
} from "./_concurrent_files.ts";
import { isWholeVersion, versionContent } from "./_conformance.ts";
import {
  IS_ROOT,
  makeTempDir,
  nameWithSkipReason,
  ROOT,
  RUNTIME,
  scriptCommand,
} from "./_helpers.ts";

// 60 cuts per case by default: a cut costs about 0.25 s of CPU (a writer
// process, a remount), the whole suite is CPU-bound on CI's 2 cores and must
// stay within 10 minutes. The README's tables add up longer runs.
const CUTS = Number(process.env.POWER_CUTS ?? 60);
const CONTROL_CUTS = Number(process.env.CONTROL_CUTS ?? 40);
const APPEND_CUTS = Number(process.env.APPEND_CUTS ?? 60);
const CONCURRENT_CUTS = Number(process.env.CONCURRENT_CUTS ?? 60);
/**
 * POWER_CUT_REPORTS=1 adds the cases that only report what they saw, for the
 * README's table of durability levels: "none" (nothing to assert: it may
 * roll back or tear) and the ext4 writer without the file fsync (it tears
 * too rarely within 40 ms to assert on). They are skipped otherwise.
 */
const REPORTS_SKIP = process.env.POWER_CUT_REPORTS === "1"
  ? undefined
  : "report only: set POWER_CUT_REPORTS=1";
/**
 * The cut comes at a random moment up to this long after the writer's first
 * acknowledged write. Short by default, to keep CI short; a cut within 40 ms
 * of the start rarely follows a timed journal commit (ext4 commits every
 * 5 s), so with "none" it mostly finds nothing written at all.
 */
const CUT_DELAY_MS = Number(process.env.CUT_DELAY_MS ?? 40);
/**
 * The file systems to cut power under, comma-separated (default both):
 * `.ci/test` runs ext4 and xfs as two runners at the same time.
 */
const FILESYSTEMS = (process.env.POWER_CUT_FILESYSTEMS ?? "ext4,xfs")
  .split(",").map((name) => name.trim());
for (const name of FILESYSTEMS) {
  if (name !== "ext4" && name !== "xfs") {
    throw new Error(`POWER_CUT_FILESYSTEMS: unknown file system "${name}"`);
  }
}
const CHILD = path.join(ROOT, "tests", "_kill_child.ts");

function has(command: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Why this suite cannot run here, or undefined. */
function skipReason(): string | undefined {
  if (RUNTIME !== "deno") return "runs once, in the Deno test run";
  if (process.platform !== "linux") return "needs Linux";
  if (!IS_ROOT) return "needs root for loop mounts";
  for (const tool of ["xfs_io", "mkfs.xfs", "mkfs.ext4", "mount", "umount"]) {
    if (!has(tool)) return `needs ${tool} (apt-get install xfsprogs)`;
  }
  const probe = makeTempDir("aw-loop-probe-");
  try {
    const image = path.join(probe, "img");
    fs.writeFileSync(image, "");
    fs.truncateSync(image, 32 * 1024 * 1024);
    execFileSync("mkfs.ext4", ["-q", image]);
    fs.mkdirSync(path.join(probe, "mnt"));
    execFileSync("mount", ["-o", "loop", image, path.join(probe, "mnt")]);
    execFileSync("umount", [path.join(probe, "mnt")]);
    return undefined;
  } catch (error) {
    return `loop mounts are impossible here: ${String(error).split("\n")[0]}`;
  } finally {
    fs.rmSync(probe, { recursive: true, force: true });
  }
}

const SKIP = skipReason();
if (SKIP) console.log(`power-cut suite skipped: ${SKIP}`);

/** What the suite cuts power under. */
type Level = "full" | "file" | "none" | "no-file-fsync";

interface CutReport {
  filesystem: "ext4" | "xfs";
  level: Level;
  /** The writer appended (`append: true`) instead of replacing. */
  append: boolean;
  /**
   * Several writers replaced files in two directories at once; then each
   * count below counts files (CONCURRENT_FILES per cut), not cuts.
   */
  concurrent: boolean;
  cuts: number;
  /** Cuts after the writer said a call had gone to the thread pool. */
  pooledCuts: number;
  /** Target torn, empty or missing after the remount. */
  torn: number;
  /** Of those torn, the target empty or missing. */
  empty: number;
  /** Of those torn, the target as long as a version but all zero bytes. */
  zeroed: number;
  /** Target whole but older than the last acknowledged write. */
  lost: number;
  /** Cuts after which a temp file was left (removed by cleanupTemps). */
  tempsLeft: number;
  /** The longest wait from the first acknowledged write to the cut. */
  cutDelayMs: number;
}

const sh = (command: string, args: string[]) =>
  execFileSync(command, args, { stdio: ["ignore", "pipe", "pipe"] });

/** A loop-mounted file system image of the given type. */
function createFileSystem(type: "ext4" | "xfs") {
  const dir = makeTempDir(`aw-${type}-`);
  const image = path.join(dir, "image");
  const mount = path.join(dir, "mnt");
  fs.writeFileSync(image, "");
  fs.truncateSync(image, (type === "xfs" ? 320 : 64) * 1024 * 1024);
  sh(type === "xfs" ? "mkfs.xfs" : "mkfs.ext4", ["-q", image]);
  fs.mkdirSync(mount);
  sh("mount", ["-o", "loop", image, mount]);
  return {
    mount,
    /** Whether the file system can clone files (xfs with reflink=1). */
    reflink: type === "xfs" &&
      /reflink=1/.test(String(sh("xfs_info", [mount]))),
    remount() {
      sh("umount", [mount]);
      sh("mount", ["-o", "loop", image, mount]);
    },
    destroy() {
      try {
        sh("umount", [mount]);
      } catch { /* already unmounted */ }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Runs the writer, cuts power while it runs; returns the last ack of each
 * file (index 0 for the one file of the other modes), and whether the writer
 * said a call had gone to the thread pool.
 */
function cutWhileWriting(
  backend: string,
  file: string,
  mount: string,
  durability: string,
  writerMode: "replace" | "append" | "concurrent",
): Promise<{ lastAcks: number[]; pooled: boolean }> {
  return new Promise((resolve, reject) => {
    const command = scriptCommand(CHILD);
    const mode = writerMode === "replace" ? [] : [writerMode];
    const child = spawn(
      command[0],
      [...command.slice(1), backend, file, durability, "0", ...mode],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    let errors = "";
    let armed = false;
    child.stdout.on("data", (chunk) => {
      output += chunk;
      if (armed || !output.includes("ack ")) return;
      armed = true;
      setTimeout(() => {
        try {
          process.kill(child.pid!, "SIGSTOP");
          sh("xfs_io", ["-x", "-c", "shutdown", mount]);
        } finally {
          child.kill("SIGKILL");
        }
      }, Math.random() * CUT_DELAY_MS);
    });
    child.stderr.on("data", (chunk) => errors += chunk);
    child.on("error", reject);
    child.on("close", (_code, signal) => {
      if (signal !== "SIGKILL") {
        reject(new Error(`writer exited by itself: ${errors}`));
        return;
      }
      const lastAcks: number[] = [];
      for (const m of output.matchAll(/ack (?:(\d+) )?(\d+)\n/g)) {
        lastAcks[Number(m[1] ?? 0)] = Number(m[2]);
      }
      resolve({ lastAcks, pooled: output.includes("pooled\n") });
    });
  });
}

async function powerCuts(
  type: "ext4" | "xfs",
  level: Level,
  cuts: number,
  writerMode: "replace" | "append" | "concurrent" = "replace",
): Promise<CutReport> {
  const append = writerMode === "append";
  const concurrent = writerMode === "concurrent";
  const { cleanupTemps } = await import("../mod.ts");
  // The broken protocol is a backend of its own, run at "full".
  const [backend, durability] = level === "no-file-fsync"
    ? ["deno-no-file-sync", "full"]
    : ["deno", level];
  const report: CutReport = {
    filesystem: type,
    level,
    append,
    concurrent,
    cuts: 0,
    pooledCuts: 0,
    torn: 0,
    empty: 0,
    zeroed: 0,
    lost: 0,
    tempsLeft: 0,
    cutDelayMs: CUT_DELAY_MS,
  };
  const filesystem = createFileSystem(type);
  try {
    if (append && type === "xfs") {
      assert.ok(filesystem.reflink, "the xfs image can clone (reflink=1)");
    }
    const file = path.join(filesystem.mount, "target.txt");
    const files = concurrent ? concurrentFiles(file) : [file];
    const directories = [
      filesystem.mount,
      ...(concurrent ? concurrentDirectories(file) : []),
    ];
    for (let cut = 0; cut < cuts; cut++) {
      for (const directory of directories) {
        fs.mkdirSync(directory, { recursive: true });
      }
      for (const each of files) {
        fs.writeFileSync(
          each,
          append ? APPEND_BASE : versionContent("kill", 0),
        );
      }
      sh("sync", []);
      const { lastAcks, pooled } = await cutWhileWriting(
        backend,
        file,
        filesystem.mount,
        durability,
        writerMode,
      );
      filesystem.remount();
      report.cuts++;
      if (pooled) report.pooledCuts++;
      for (const [index, each] of files.entries()) {
        const content = fs.existsSync(each)
          ? fs.readFileSync(each, "utf8")
          : "";
        // A whole version: the base plus appends 1..k, or replace k whole.
        const version = append
          ? appendedCount(content) ?? -1
          : Number(/\|kill:(\d+):/.exec(content)?.[1] ?? -1);
        const whole = append ? version >= 0 : isWholeVersion(content);
        if (!whole) {
          report.torn++;
          if (content === "") report.empty++;
          else if (/^\0+$/.test(content)) report.zeroed++;
        } else if (version < (lastAcks[index] ?? 0)) report.lost++;
      }
      let removed = 0;
      for (const directory of directories) {
        removed += (await cleanupTemps(directory, { olderThan: 0 })).length;
        const rest = fs.readdirSync(directory).filter((n) =>
          n.endsWith(".atomic-tmp")
        );
        assert.deepEqual(rest, [], "cleanupTemps removed every temp file");
      }
      if (removed > 0) report.tempsLeft++;
    }
  } finally {
    filesystem.destroy();
  }
  console.log(`power cuts: ${JSON.stringify(report)}`);
  return report;
}

const options = { skip: SKIP ?? false, timeout: 3_600_000 };

if (FILESYSTEMS.includes("xfs")) {
  test(
    nameWithSkipReason(
      'power cuts on xfs, append: true (a reflinked clone), durability "full": never torn, no acknowledged append lost',
      SKIP,
    ),
    options,
    async () => {
      const report = await powerCuts("xfs", "full", APPEND_CUTS, "append");
      assert.equal(report.cuts, APPEND_CUTS);
      assert.deepEqual([report.torn, report.lost], [0, 0]);
    },
  );
  test(
    nameWithSkipReason(
      'power cuts on xfs, append: true, durability "file" (no directory fsync): never torn, acknowledged appends may be lost',
      SKIP,
    ),
    options,
    async () => {
      const report = await powerCuts("xfs", "file", CONTROL_CUTS, "append");
      assert.equal(report.torn, 0);
      // The control for the append check: it must see lost appends here.
      assert.ok(report.lost > 0, "expected lost acknowledged appends");
    },
  );
}

for (const type of FILESYSTEMS as ("ext4" | "xfs")[]) {
  test(
    nameWithSkipReason(
      `power cuts on ${type}, ${CONCURRENT_FILES} writers in two directories (group commit, pooled create and rename), durability "full": never torn, nothing acknowledged lost`,
      SKIP,
    ),
    options,
    async () => {
      const report = await powerCuts(
        type,
        "full",
        CONCURRENT_CUTS,
        "concurrent",
      );
      assert.equal(report.cuts, CONCURRENT_CUTS);
      assert.deepEqual([report.torn, report.lost], [0, 0]);
      assert.ok(report.pooledCuts > 0, "the writes went to the thread pool");
    },
  );
  test(
    nameWithSkipReason(
      `power cuts on ${type}, ${CONCURRENT_FILES} writers in two directories, durability "file" (no directory fsync): the control, acknowledged writes may be lost`,
      SKIP,
    ),
    options,
    async () => {
      const report = await powerCuts(
        type,
        "file",
        CONCURRENT_CUTS,
        "concurrent",
      );
      assert.equal(report.torn, 0);
      // The control for the concurrent check: it must see lost writes here.
      assert.ok(report.lost > 0, "expected lost acknowledged writes");
    },
  );
  test(
    nameWithSkipReason(
      `power cuts on ${type}, durability "full": never torn, nothing acknowledged lost`,
      SKIP,
    ),
    options,
    async () => {
      const report = await powerCuts(type, "full", CUTS);
      assert.equal(report.cuts, CUTS);
      assert.deepEqual([report.torn, report.lost], [0, 0]);
    },
  );
  test(
    nameWithSkipReason(
      `power cuts on ${type}, durability "file" (no directory fsync): never torn, acknowledged writes may be lost`,
      SKIP,
    ),
    options,
    async () => {
      const report = await powerCuts(type, "file", CONTROL_CUTS);
      assert.equal(report.torn, 0);
      // The control for "lost": without the directory fsync the rename can
      // roll back, so this must see some, or the check could not see any.
      assert.ok(report.lost > 0, "expected lost acknowledged writes");
    },
  );
  test(
    nameWithSkipReason(
      `power cuts on ${type}, durability "none" (no fsync): torn and lost only reported`,
      SKIP ?? REPORTS_SKIP,
    ),
    { ...options, skip: SKIP ?? REPORTS_SKIP ?? false },
    async () => {
      const report = await powerCuts(type, "none", CONTROL_CUTS);
      assert.equal(report.cuts, CONTROL_CUTS);
    },
  );
  test(
    nameWithSkipReason(
      `power cuts on ${type}, negative control: a writer without the file fsync`,
      SKIP ?? (type === "xfs" ? undefined : REPORTS_SKIP),
    ),
    {
      ...options,
      skip: SKIP ?? (type === "xfs" ? undefined : REPORTS_SKIP) ?? false,
    },
    async () => {
      const report = await powerCuts(type, "no-file-fsync", CONTROL_CUTS);
      assert.equal(report.cuts, CONTROL_CUTS);
      // On xfs the renamed file's data is not on disk: empty targets, nearly
      // every cut. ext4's auto_da_alloc starts writing the data on
      // rename-over but does not wait: some cuts leave a zero-filled target,
      // too few to assert on (0 to 14 of 40 here), so there it is reported.
      if (type === "xfs") assert.ok(report.torn > 0, "expected empty targets");
    },
  );
}
