/**
 * The `atomic-write` command end to end: real processes of the runtime that
 * runs the tests, on real files. Only `node:` modules, so that this file runs
 * unchanged under `deno test`, `bun test` and `node --test`.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { test } from "node:test";

const ROOT = path.resolve(
  decodeURIComponent(new URL("..", import.meta.url).pathname),
);
const CLI_PATH = path.join(ROOT, "src", "cli.ts");

/** The command that runs the CLI in the runtime running this file. */
function cliCommand(): string[] {
  if ("Deno" in globalThis) {
    return [Deno.execPath(), "run", "--allow-read", "--allow-write", CLI_PATH];
  }
  if (process.versions.bun) return [process.execPath, CLI_PATH];
  // `--import tsx` resolves from the working directory; the resolved URL lets
  // the child run in the test's own directory.
  return [process.execPath, "--import", import.meta.resolve("tsx"), CLI_PATH];
}
const CLI = cliCommand();

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `command` in `cwd` with `input` on its stdin, to completion. */
function run(
  command: string[],
  cwd: string,
  input: string | Uint8Array = "",
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0], command.slice(1), { cwd });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => stdout += chunk);
    child.stderr.on("data", (chunk) => stderr += chunk);
    // A usage error exits without reading stdin: EPIPE here is expected.
    child.stdin.on("error", () => {});
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** Every file under `directory` whose name is one of our temp names. */
function tempFiles(directory: string): string[] {
  return fs.readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) return tempFiles(full);
    return /\.atomic-tmp$/.test(entry.name) ? [full] : [];
  });
}

/** Runs a case in a fresh directory; then no temp file may be left in it. */
function cliTest(name: string, body: (dir: string) => Promise<void>) {
  test(`cli: ${name}`, { timeout: 60_000 }, async () => {
    const dir = fs.realpathSync(
      fs.mkdtempSync(path.join(os.tmpdir(), "aw-cli-")),
    );
    try {
      await body(dir);
      assert.deepEqual(tempFiles(dir), [], "temp files left behind");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

/** Runs the CLI in `dir`, asserts it succeeded, returns its output. */
async function write(
  dir: string,
  args: string[],
  input: string | Uint8Array,
): Promise<Result> {
  const result = await run([...CLI, ...args], dir, input);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, "");
  return result;
}

cliTest("writes standard input to a new file", async (dir) => {
  const file = path.join(dir, "new.txt");
  const result = await write(dir, [file], "hello\n");
  assert.equal(result.stdout, "");
  assert.equal(fs.readFileSync(file, "utf8"), "hello\n");
});

cliTest("replaces a file byte-exact (every byte value)", async (dir) => {
  const file = path.join(dir, "data.bin");
  fs.writeFileSync(file, "old content, longer than nothing");
  const before = fs.statSync(file).ino;
  // Over 1 MiB, so it arrives in many chunks.
  const bytes = new Uint8Array(256 * 4099).map((_, i) => i % 256);
  await write(dir, [file], bytes);
  assert.deepEqual(new Uint8Array(fs.readFileSync(file)), bytes);
  assert.notEqual(fs.statSync(file).ino, before, "not replaced by a rename");
});

cliTest("--append appends; a missing file counts as empty", async (dir) => {
  const file = path.join(dir, "log.txt");
  await write(dir, ["--append", file], "one\n");
  await write(dir, ["--append", file], "two\n");
  assert.equal(fs.readFileSync(file, "utf8"), "one\ntwo\n");
});

cliTest("--mode sets the permission bits exactly", async (dir) => {
  for (const mode of ["600", "0600", "0o600"]) {
    const file = path.join(dir, `mode-${mode}`);
    fs.writeFileSync(file, "old", { mode: 0o644 });
    await write(dir, ["--mode", mode, file], "secret");
    assert.equal(fs.statSync(file).mode & 0o7777, 0o600, `--mode ${mode}`);
    assert.equal(fs.readFileSync(file, "utf8"), "secret");
  }
  const fresh = path.join(dir, "fresh");
  await write(dir, ["--mode=600", fresh], "new");
  assert.equal(fs.statSync(fresh).mode & 0o7777, 0o600);
});

cliTest("--create-parents creates missing directories", async (dir) => {
  const file = path.join(dir, "a", "b", "c.txt");
  await write(dir, ["--create-parents", file], "deep");
  assert.equal(fs.readFileSync(file, "utf8"), "deep");
});

cliTest("--durability accepts full, file and none", async (dir) => {
  for (const level of ["full", "file", "none"]) {
    const file = path.join(dir, level);
    await write(dir, ["--durability", level, file], level);
    await write(dir, [`--durability=${level}`, "--append", file], "!");
    assert.equal(fs.readFileSync(file, "utf8"), `${level}!`);
  }
});

cliTest("`--` ends the options", async (dir) => {
  // Not as the first argument: Bun drops a `--` right after the script.
  await write(dir, ["--durability", "none", "--", "--name"], "dashes");
  assert.equal(fs.readFileSync(path.join(dir, "--name"), "utf8"), "dashes");
});

cliTest("a file piped into itself keeps its content (sponge)", async (dir) => {
  const file = path.join(dir, "config.txt");
  // Far bigger than a pipe buffer: `cat` is still reading when the CLI starts.
  const content = Array.from({ length: 200_000 }, (_, i) => `line ${i}\n`)
    .join("");
  fs.writeFileSync(file, content);
  const before = fs.statSync(file).ino;
  const result = await run(
    ["bash", "-c", 'cat -- "$1" | "${@:2}" "$1"', "bash", file, ...CLI],
    dir,
  );
  assert.equal(result.code, 0, result.stderr);
  assert.equal(fs.readFileSync(file, "utf8"), content);
  assert.notEqual(fs.statSync(file).ino, before, "the file was not rewritten");
});

cliTest("--help prints the usage and exits 0", async (dir) => {
  const result = await run([...CLI, "--help"], dir);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /Usage: atomic-write/);
  assert.equal(result.stderr, "");
});

cliTest("--version prints the version of deno.json", async (dir) => {
  const result = await run([...CLI, "--version"], dir);
  assert.equal(result.code, 0, result.stderr);
  for (const manifest of ["deno.json", "package.json"]) {
    const { version } = JSON.parse(
      fs.readFileSync(path.join(ROOT, manifest), "utf8"),
    );
    assert.equal(result.stdout.trim(), `atomic-write ${version}`, manifest);
  }
});

cliTest("usage errors exit 2 and name the problem", async (dir) => {
  const file = path.join(dir, "x");
  const cases: [string[], RegExp][] = [
    [["--bogus", file], /--bogus/],
    [[], /missing FILE/],
    [[file, file], /one FILE/],
    [["--mode", "999", file], /--mode.*999/],
    [["--mode", "rw", file], /--mode.*rw/],
    [["--mode"], /--mode needs a value/],
    [["--durability", "fast", file], /--durability.*fast/],
    [["--append=false", file], /--append takes no value/],
  ];
  for (const [args, message] of cases) {
    const result = await run([...CLI, ...args], dir, "input");
    const context = `${args.join(" ")}: ${result.stderr}`;
    assert.equal(result.code, 2, context);
    assert.match(result.stderr, message, context);
    assert.match(result.stderr, /atomic-write --help/, context);
    assert.equal(result.stdout, "", context);
  }
  assert.deepEqual(fs.readdirSync(dir), [], "a usage error wrote a file");
});

cliTest("a missing parent directory exits 1 (step resolve)", async (dir) => {
  const file = path.join(dir, "missing", "x.txt");
  const result = await run([...CLI, file], dir, "x");
  assert.equal(result.code, 1, result.stderr);
  assert.ok(result.stderr.includes(`"${file}"`), result.stderr);
  assert.match(result.stderr, /resolve/);
  assert.match(result.stderr, /ENOENT/);
  assert.equal(fs.existsSync(path.dirname(file)), false);
});

cliTest("a directory as the target exits 1 and stays", async (dir) => {
  const folder = path.join(dir, "folder");
  fs.mkdirSync(folder);
  fs.writeFileSync(path.join(folder, "inside"), "kept");
  const result = await run([...CLI, folder], dir, "x");
  assert.equal(result.code, 1, result.stderr);
  assert.ok(result.stderr.includes(`"${folder}"`), result.stderr);
  assert.match(result.stderr, /EISDIR/);
  assert.equal(fs.readFileSync(path.join(folder, "inside"), "utf8"), "kept");
});
