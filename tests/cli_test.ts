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
import { test } from "node:test";
import { scriptCommand } from "./_helpers.ts";

const ROOT = path.resolve(
  decodeURIComponent(new URL("..", import.meta.url).pathname),
);
const CLI_PATH = path.join(ROOT, "src", "cli.ts");

/** The command that runs the CLI in the runtime running this file. */
function cliCommand(): string[] {
  if ("Deno" in globalThis) {
    return [Deno.execPath(), "run", "--allow-read", "--allow-write", CLI_PATH];
  }
  // Node: bundled once into plain JavaScript (no loader per child).
  return scriptCommand(CLI_PATH);
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
  // After other options; `--` as the first argument has its own test below.
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

/** Names, contents and inodes of every entry under `dir`, recursively. */
function snapshot(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    const { ino } = fs.statSync(full);
    if (entry.isDirectory()) {
      return [`${entry.name}/ ${ino}`, ...snapshot(full)];
    }
    return [`${entry.name} ${ino} ${fs.readFileSync(full, "utf8")}`];
  });
}

/**
 * Runs each `[args, message]` case in `dir` with input on stdin and asserts a
 * Unix usage error: exit 2, one line naming the problem plus the hint on
 * stderr, nothing on stdout, and `dir` untouched (no new file, no temp file,
 * an existing FILE keeps its content and inode).
 */
async function assertUsageErrors(
  dir: string,
  cases: [string[], RegExp][],
): Promise<void> {
  fs.writeFileSync(path.join(dir, "existing.txt"), "old");
  fs.mkdirSync(path.join(dir, "sub"));
  const before = snapshot(dir);
  for (const [args, message] of cases) {
    const result = await run([...CLI, ...args], dir, "input");
    const context = `${JSON.stringify(args)}: ${result.stderr}`;
    assert.equal(result.code, 2, context);
    const lines = result.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 2, `one line and the hint: ${context}`);
    assert.match(lines[0], /^atomic-write: /, context);
    assert.match(lines[0], message, context);
    assert.equal(lines[1], "Try 'atomic-write --help'.", context);
    assert.equal(result.stdout, "", context);
    assert.deepEqual(
      snapshot(dir),
      before,
      `the directory changed: ${context}`,
    );
  }
}

cliTest("usage errors exit 2 and name the problem", async (dir) => {
  const file = path.join(dir, "x");
  await assertUsageErrors(dir, [
    [["--bogus", file], /--bogus/],
    [[], /missing FILE/],
    [[file, file], /one FILE/],
    [["--mode", "999", file], /--mode.*999/],
    [["--mode", "rw", file], /--mode.*rw/],
    [["--mode"], /--mode needs a value/],
    [["--durability", "fast", file], /--durability.*fast/],
    [["--append=false", file], /--append takes no value/],
  ]);
});

// Issue item 13: the CLI behaves like a Unix (getopt) tool.

cliTest(
  "-h and --help print the usage on stdout, write nothing",
  async (dir) => {
    for (const args of [["-h"], ["--help"], ["-ah"], ["-h", "file"]]) {
      // Empty stdin, as reported: `-h` used to create a file named `-h`.
      const result = await run([...CLI, ...args], dir, "");
      assert.equal(result.code, 0, `${args}: ${result.stderr}`);
      assert.match(result.stdout, /^Usage: atomic-write /, args.join(" "));
      assert.equal(result.stderr, "", args.join(" "));
      assert.deepEqual(fs.readdirSync(dir), [], `${args} wrote a file`);
    }
  },
);

cliTest("the usage documents every short and long option", async (dir) => {
  const { stdout } = await run([...CLI, "--help"], dir);
  for (
    const option of [
      /-a, --append\b/,
      /-m, --mode[ =]MODE\b/,
      /-d, --durability[ =]LEVEL\b/,
      /-p, --create-parents\b/,
      /-h, --help\b/,
      /-V, --version\b/,
      /\s--\s/,
    ]
  ) {
    assert.match(stdout, option);
  }
});

cliTest("-V and --version print the version, write nothing", async (dir) => {
  for (const flag of ["-V", "--version"]) {
    const result = await run([...CLI, flag], dir, "");
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^atomic-write \d+\.\d+\.\d+\n$/, flag);
    assert.equal(result.stderr, "", flag);
  }
  assert.deepEqual(fs.readdirSync(dir), []);
});

cliTest("short options: -a, -m MODE, -mMODE, -d LEVEL, -p", async (dir) => {
  const log = path.join(dir, "log.txt");
  await write(dir, ["-a", log], "one\n");
  await write(dir, ["-a", log], "two\n");
  assert.equal(fs.readFileSync(log, "utf8"), "one\ntwo\n");

  for (const args of [["-m", "600"], ["-m600"], ["-m0o600"]]) {
    const file = path.join(dir, `mode${args.join("")}`);
    fs.writeFileSync(file, "old", { mode: 0o644 });
    await write(dir, [...args, file], "secret");
    assert.equal(fs.statSync(file).mode & 0o7777, 0o600, args.join(" "));
    assert.equal(fs.readFileSync(file, "utf8"), "secret");
  }

  for (const args of [["-d", "none"], ["-dfile"]]) {
    const file = path.join(dir, `durability${args.join("")}`);
    await write(dir, [...args, file], "d");
    assert.equal(fs.readFileSync(file, "utf8"), "d");
  }

  const deep = path.join(dir, "a", "b", "c.txt");
  await write(dir, ["-p", deep], "deep");
  assert.equal(fs.readFileSync(deep, "utf8"), "deep");
});

cliTest("bundled short options, like getopt", async (dir) => {
  const file = path.join(dir, "p", "q", "log.txt");
  await write(dir, ["-ap", file], "one\n");
  // A flag that takes a value ends the bundle: the rest is its value.
  await write(dir, ["-pam600", file], "two\n");
  await write(dir, ["-apm", "600", "-dnone", file], "three\n");
  assert.equal(fs.readFileSync(file, "utf8"), "one\ntwo\nthree\n");
  assert.equal(fs.statSync(file).mode & 0o7777, 0o600);
});

cliTest("options may follow FILE (GNU order)", async (dir) => {
  const file = path.join(dir, "late.txt");
  await write(dir, [file, "-m", "600"], "one\n");
  await write(dir, [file, "--append"], "two\n");
  assert.equal(fs.readFileSync(file, "utf8"), "one\ntwo\n");
  assert.equal(fs.statSync(file).mode & 0o7777, 0o600);
});

cliTest(
  "`--` first ends the options: `-- -h` writes a file -h",
  async (dir) => {
    // Bun drops a `--` right after the script (oven-sh/bun#13984); the CLI
    // must still see it.
    await write(dir, ["--", "-h"], "dash h");
    assert.equal(fs.readFileSync(path.join(dir, "-h"), "utf8"), "dash h");
    await write(dir, ["--", "--help"], "dash help");
    assert.equal(
      fs.readFileSync(path.join(dir, "--help"), "utf8"),
      "dash help",
    );
    // After `--`, even `--` is a FILE.
    await write(dir, ["-a", "--", "--"], "dashes");
    assert.equal(fs.readFileSync(path.join(dir, "--"), "utf8"), "dashes");
    await write(dir, ["./-V"], "dot slash");
    assert.equal(fs.readFileSync(path.join(dir, "-V"), "utf8"), "dot slash");
    assert.deepEqual(fs.readdirSync(dir).sort(), ["--", "--help", "-V", "-h"]);
  },
);

cliTest(
  "a lone `-` is not standard output: exit 2, ./- is a file",
  async (dir) => {
    await assertUsageErrors(dir, [
      [["-"], /standard output.*\.\/-/],
      [["--", "-"], /standard output.*\.\/-/],
      [["-a", "-"], /standard output/],
    ]);
    await write(dir, ["./-"], "dash");
    assert.equal(fs.readFileSync(path.join(dir, "-"), "utf8"), "dash");
  },
);

cliTest(
  "unknown options exit 2, naming them, with a suggestion",
  async (dir) => {
    await assertUsageErrors(dir, [
      [["-x", "existing.txt"], /unknown option -x\b/],
      [["-ax", "existing.txt"], /unknown option -x\b/],
      [
        ["--apend", "existing.txt"],
        /unknown option --apend.*did you mean --append\?/,
      ],
      [["--mod=600", "existing.txt"], /--mod\b.*did you mean --mode\?/],
      [["--create-parent", "x"], /did you mean --create-parents\?/],
      [["--durabilty", "none", "x"], /did you mean --durability\?/],
      [["--verison"], /did you mean --version\?/],
      [["--bogus", "x"], /^atomic-write: unknown option --bogus$/],
      // A long name with one dash: getopt reads `-append` as -a -p -p -e.
      [["-append", "existing.txt"], /-e\b.*did you mean --append\?/],
      [["-mode", "600", "x"], /"ode".*did you mean --mode\?/],
    ]);
  },
);

cliTest("missing, extra and invalid arguments exit 2", async (dir) => {
  await assertUsageErrors(dir, [
    [[], /missing FILE/],
    [["-a"], /missing FILE/],
    [["--"], /missing FILE/],
    [["existing.txt", "other"], /expected one FILE, got 2/],
    [["-a", "--", "existing.txt", "-h"], /expected one FILE, got 2/],
    [[""], /FILE.*empty/],
    [["existing.txt", "-m"], /-m needs a value/],
    [["existing.txt", "-d"], /-d needs a value/],
    [["existing.txt", "--durability"], /--durability needs a value/],
    [["-m", "8", "existing.txt"], /-m expects octal.*"8"/],
    [["-m", "", "existing.txt"], /-m expects octal.*""/],
    [["--mode=", "existing.txt"], /mode.*""/],
    [["-m", "12345", "existing.txt"], /-m expects octal.*"12345"/],
    [
      ["-d", "fast", "existing.txt"],
      /-d expects full, file or none, got "fast"/,
    ],
    [["--durability=FULL", "existing.txt"], /--durability expects.*"FULL"/],
    [["--help=yes"], /--help takes no value/],
    [["--create-parents=1", "x"], /--create-parents takes no value/],
  ]);
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
