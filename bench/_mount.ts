/**
 * The file systems the benchmark writes on: the system's temp directory as
 * it is, and a fresh xfs image loop-mounted for the run (as
 * tests/power_cut_test.ts and bench/append_reflink.ts build theirs). Linux;
 * the xfs mount needs root and mkfs.xfs.
 */

import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import type { FileSystem } from "./_results.ts";

const GiB = 2 ** 30;

function sh(command: string, argv: string[]): string {
  return execFileSync(command, argv, {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  }).trim();
}

/** What the kernel says about the mount holding `directory`. */
export function describeFileSystem(directory: string): FileSystem {
  try {
    const [type, options, source] = sh("findmnt", [
      "-n",
      "-o",
      "FSTYPE,OPTIONS,SOURCE",
      "-T",
      directory,
    ]).split(/\s+/);
    return { label: type, type, options, source, directory };
  } catch {
    // No findmnt: the statfs type name is all there is.
    const type = sh("stat", ["-f", "-c", "%T", directory]);
    return {
      label: type,
      type,
      options: "unknown",
      source: "unknown",
      directory,
    };
  }
}

/** Why an xfs image cannot be mounted here, or undefined if it can. */
export function xfsUnavailable(): string | undefined {
  if (process.platform !== "linux") return "not Linux";
  if (process.getuid?.() !== 0) return "loop mounts need root";
  for (const tool of ["mkfs.xfs", "mount", "umount", "findmnt"]) {
    try {
      sh("which", [tool]);
    } catch {
      return `${tool} is missing (apt-get install xfsprogs util-linux)`;
    }
  }
  return undefined;
}

/** A fresh xfs file system on a loop-mounted image, and how to remove it. */
export interface Mounted {
  mount: string;
  describe(): FileSystem;
  destroy(): void;
}

/**
 * Makes and mounts an xfs image of `sizeGiB` (sparse) in the temp
 * directory. The image holds the largest workload: a 1 GiB stream for each
 * of four contenders plus one temp file.
 */
export function mountXfs(sizeGiB = 8): Mounted {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aw-bench-xfs-"));
  const image = path.join(dir, "image");
  const mount = path.join(dir, "mnt");
  let mounted = false;
  const destroy = () => {
    if (mounted) {
      try {
        sh("umount", [mount]);
      } catch {
        // Still busy (a killed child's descriptors): detach it now, the
        // kernel finishes when the last one closes.
        sh("umount", ["-l", mount]);
      }
      mounted = false;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    fs.writeFileSync(image, "");
    fs.truncateSync(image, sizeGiB * GiB);
    sh("mkfs.xfs", ["-q", image]);
    fs.mkdirSync(mount);
    sh("mount", ["-o", "loop", image, mount]);
    mounted = true;
  } catch (error) {
    destroy();
    throw error;
  }
  const host = describeFileSystem(dir);
  return {
    mount,
    describe() {
      const filesystem = describeFileSystem(mount);
      return {
        ...filesystem,
        source:
          `${filesystem.source}, an image file of ${sizeGiB} GiB on ${host.type} (${host.source})`,
      };
    },
    destroy,
  };
}
