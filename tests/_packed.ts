/**
 * The npm package as a user gets it: `npm pack` (which runs `prepack`, the
 * build) on a private copy of this tree, so that a build here never removes
 * the `dist/` another test run is reading, then the tarball installed
 * offline into a fresh consumer project. Once per process.
 */

import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import { promisify } from "node:util";
import { makeTempDir, ROOT } from "./_helpers.ts";

/** A consumer project with the packed package installed. */
export interface Consumer {
  /** The consumer project's directory. */
  directory: string;
  /** Where the package was installed: `node_modules/@atomic-write/atomic-write`. */
  packageDirectory: string;
  /** The packed tarball. */
  tarball: string;
}

let consumer: Promise<Consumer> | undefined;

/** Runs a command; rejects with its output if it fails. */
async function output(command: string, args: string[], cwd: string) {
  const { stdout } = await promisify(execFile)(command, args, {
    cwd,
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

/**
 * `npm pack` of a copy of this tree (tracked and new files, as the next
 * commit would have them); returns the tarball's path.
 */
export async function packTarball(): Promise<string> {
  const copy = makeTempDir("aw-pack-");
  // Not the ignored files (dist/, node_modules/): a link gives the build
  // its tools.
  const listed = await output(
    "git",
    ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    ROOT,
  );
  for (const file of listed.split("\0").filter(Boolean)) {
    const from = path.join(ROOT, file);
    if (!fs.existsSync(from)) continue; // deleted, not yet committed
    fs.mkdirSync(path.join(copy, path.dirname(file)), { recursive: true });
    fs.copyFileSync(from, path.join(copy, file));
  }
  fs.symlinkSync(
    path.join(ROOT, "node_modules"),
    path.join(copy, "node_modules"),
  );
  const out = makeTempDir("aw-tarball-");
  const packed = await output(
    "npm",
    ["pack", "--silent", "--pack-destination", out],
    copy,
  );
  fs.rmSync(copy, { recursive: true, force: true });
  return path.join(out, packed.trim().split("\n").at(-1)!);
}

async function install(): Promise<Consumer> {
  const tarball = await packTarball();
  const directory = makeTempDir("aw-consumer-");
  fs.writeFileSync(
    path.join(directory, "package.json"),
    JSON.stringify({ name: "consumer", private: true, type: "module" }),
  );
  // The package has no dependencies: nothing to download.
  await output(
    "npm",
    ["install", "--offline", "--no-audit", "--no-fund", tarball],
    directory,
  );
  process.on("exit", () => {
    fs.rmSync(directory, { recursive: true, force: true });
    fs.rmSync(path.dirname(tarball), { recursive: true, force: true });
  });
  return {
    directory,
    packageDirectory: path.join(
      directory,
      "node_modules",
      "@atomic-write",
      "atomic-write",
    ),
    tarball,
  };
}

/** The packed package installed in a fresh consumer project (cached). */
export function packedConsumer(): Promise<Consumer> {
  consumer ??= install();
  return consumer;
}
