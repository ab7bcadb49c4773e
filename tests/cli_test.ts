/** The CLI end to end: real processes of the runtime running the tests. */

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { VERSION } from "../src/version.ts";
import {
  leftoverTemps,
  makeTempDir,
  ROOT,
  run,
  RUNTIME,
  scriptCommand,
} from "./_helpers.ts";

const CLI = path.join(ROOT, "src", "cli.ts");
const cli = RUNTIME === "deno"
  ? [Deno.execPath(), "run", "--allow-read", "--allow-write", CLI]
  : scriptCommand(CLI);

/** Runs a case in a fresh directory, then checks no temp file is left. */
function cliTest(name: string, body: (dir: string) => Promise<void>) {
  test(`cli: ${name}`, { timeout: 30_000 }, async () => {
    const dir = makeTempDir();
    try {
      await body(dir);
      assert.deepEqual(leftoverTemps(dir), [], "temp files left behind");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

cliTest("replaces a file with standard input, byte-exact", async (dir) => {
  const file = path.join(dir, "data.bin");
  fs.writeFileSync(file, "old");
  const bytes = new Uint8Array(256 * 4).map((_, i) => i);
  const result = await run([...cli, file], { input: bytes });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(new Uint8Array(fs.readFileSync(file)), bytes);
});

cliTest("creates a new file and honours the options", async (dir) => {
  const file = path.join(dir, "a", "b", "new.txt");
  const result = await run([
    ...cli,
    "--create-parents",
    "--mode",
    "600",
    "--durability=none",
    file,
  ], { input: "hello" });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(fs.readFileSync(file, "utf8"), "hello");
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  const appended = await run([...cli, "--append", "--", file], {
    input: " world",
  });
  assert.equal(appended.code, 0, appended.stderr);
  assert.equal(fs.readFileSync(file, "utf8"), "hello world");
});

cliTest("transforms a file into itself (sponge)", async (dir) => {
  const file = path.join(dir, "config.txt");
  const lines = Array.from({ length: 20_000 }, (_, i) => `line ${i}`);
  fs.writeFileSync(file, lines.join("\n"));
  const quoted = cli.map((part) => `'${part}'`).join(" ");
  const result = await run([
    "bash",
    "-c",
    `cat '${file}' | tr a-z A-Z | ${quoted} '${file}'`,
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(fs.readFileSync(file, "utf8"), lines.join("\n").toUpperCase());
});

cliTest("--help and --version exit 0", async () => {
  const help = await run([...cli, "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: atomic-write/);
  const version = await run([...cli, "--version"]);
  assert.equal(version.code, 0);
  assert.equal(version.stdout.trim(), `atomic-write ${VERSION}`);
});

cliTest("usage errors exit 2 and name the problem", async (dir) => {
  const file = path.join(dir, "x");
  for (
    const [args, message] of [
      [["--bogus", file], /unknown option --bogus/],
      [[], /missing FILE/],
      [[file, file], /expected one FILE/],
      [["--mode", "999", file], /--mode/],
      [["--durability", "fast", file], /--durability/],
    ] as const
  ) {
    const result = await run([...cli, ...args]);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, message);
  }
  assert.equal(fs.existsSync(file), false);
});

cliTest("write failures exit 1 and name the file and the step", async (dir) => {
  const missing = path.join(dir, "missing", "x");
  const result = await run([...cli, missing], { input: "x" });
  assert.equal(result.code, 1);
  assert.ok(result.stderr.includes(missing), result.stderr);
  assert.match(result.stderr, /step "resolve"/);
  const folder = path.join(dir, "folder");
  fs.mkdirSync(folder);
  const onDirectory = await run([...cli, folder], { input: "x" });
  assert.equal(onDirectory.code, 1);
  assert.match(onDirectory.stderr, /EISDIR/);
  assert.ok(fs.statSync(folder).isDirectory());
});

test("the version matches deno.json and package.json", () => {
  for (const manifest of ["deno.json", "package.json"]) {
    const { version } = JSON.parse(
      fs.readFileSync(path.join(ROOT, manifest), "utf8"),
    );
    assert.equal(version, VERSION, manifest);
  }
});
