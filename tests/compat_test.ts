/**
 * The migration shims (src/compat/) against the contract of the libraries
 * they replace, as those libraries' own tests and docs state it, and side by
 * side with the originals from node_modules on the same inputs: the same
 * results where the original is right, and the documented differences
 * where it is not (a full disk truncates the file under write-file-atomic
 * and atomically; the shims fail and keep the old file).
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { Readable } from "node:stream";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import originalWriteFileAtomic from "write-file-atomic";
import * as originalAtomically from "atomically";
import { Writer as OriginalWriter } from "steno";
import writeFileAtomic, {
  sync as writeFileAtomicSync,
} from "../src/compat/write_file_atomic.ts";
import * as atomically from "../src/compat/atomically.ts";
import { Writer } from "../src/compat/steno.ts";
import { AtomicWriteError } from "../src/errors.ts";
import {
  IS_ROOT,
  leftoverTemps,
  makeTempDir,
  nameWithSkipReason,
  RUNTIME,
} from "./_helpers.ts";

const text = (file: string) => fs.readFileSync(file, "utf8");
const bytes = (file: string) => new Uint8Array(fs.readFileSync(file));
const modeOf = (file: string) => fs.statSync(file).mode & 0o7777;
const noRoot = IS_ROOT ? undefined : "needs root (chown, tmpfs mount)";

/** The bits a new file gets for `mode` under this process's umask. */
function underUmask(dir: string, mode: number): number {
  const probe = path.join(dir, `umask-probe-${mode}`);
  // open(2) applies the umask (Deno's writeFileSync chmods instead).
  fs.closeSync(fs.openSync(probe, "wx", mode));
  const result = modeOf(probe);
  fs.rmSync(probe);
  return result;
}

/** Runs `body` with a 1 MiB tmpfs mounted in a fresh directory. */
async function withSmallDisk(body: (mount: string) => Promise<void>) {
  const mount = path.join(makeTempDir("aw-compat-"), "small");
  fs.mkdirSync(mount);
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mount]);
  try {
    await body(mount);
  } finally {
    execFileSync("umount", [mount]);
  }
}

const TWO_MIB = 2 * 1024 * 1024;

async function settle(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
    return "resolved";
  } catch (error) {
    return error;
  }
}

/**
 * The originals write with ONE fs.write call and ignore a short count: under
 * Node and Bun a full disk gives a short write, so they rename a truncated
 * file over the target and resolve. Deno's node:fs loops over short writes
 * and reports ENOSPC, so there the original fails instead.
 */
function assertTruncatedOutsideDeno(file: string, outcome: unknown) {
  const size = fs.statSync(file).size;
  if (RUNTIME !== "deno") {
    assert.equal(outcome, "resolved");
    assert.ok(size > 3 && size < TWO_MIB, `the original left ${size} bytes`);
  }
  fs.rmSync(file);
}

function assertFailedWith(outcome: unknown, code: string) {
  assert.ok(
    outcome instanceof AtomicWriteError,
    `expected an AtomicWriteError, got ${outcome}`,
  );
  assert.equal(outcome.code, code, outcome.message);
}

// ------------------------------------------------------ write-file-atomic

// Inputs of write-file-atomic's own integration tests, and a few more.
const wfaInputs: [string, () => unknown, unknown?][] = [
  ["a string", () => "42"],
  ["a Buffer", () => Buffer.from("42")],
  ["a Uint8Array", () => new Uint8Array([0x34, 0x32])],
  ["undefined (empty file)", () => undefined],
  ["null (empty file)", () => null],
  ["a number, through String()", () => 42],
  ["an array, through String()", () => ["a", "b"]],
  ["utf16le text", () => "foo", "utf16le"],
  ["latin1 text", () => "héllo", "latin1"],
  ["base64 text", () => "aGVsbG8=", "base64"],
  ["utf8 text", () => "héllo", "utf8"],
];

test("write-file-atomic: the same bytes as the original for each input (promise, callback and sync forms)", async () => {
  const dir = makeTempDir("aw-compat-");
  for (const [what, make, encoding] of wfaInputs) {
    const original = path.join(dir, "original");
    const shim = path.join(dir, "shim");
    const options = encoding as string | undefined;
    await originalWriteFileAtomic(original, make(), options);
    await writeFileAtomic(shim, make(), options);
    assert.deepEqual(bytes(shim), bytes(original), `promise form, ${what}`);
    await new Promise<void>((resolve, reject) =>
      writeFileAtomic(
        shim,
        make(),
        options,
        (error) => error ? reject(error) : resolve(),
      )
    );
    assert.deepEqual(bytes(shim), bytes(original), `callback form, ${what}`);
    originalWriteFileAtomic.sync(original, make(), options);
    writeFileAtomic.sync(shim, make(), options);
    assert.deepEqual(bytes(shim), bytes(original), `sync form, ${what}`);
  }
  assert.deepEqual(leftoverTemps(dir), []);
});

test("write-file-atomic: callback gets no argument on success, the error on failure; options may be left out or a string", async () => {
  const dir = makeTempDir("aw-compat-");
  const file = path.join(dir, "file");
  const calls: unknown[][] = [];
  await writeFileAtomic(file, "a", (...args: unknown[]) => calls.push(args));
  await writeFileAtomic(file, "b", "utf8", (...args) => calls.push(args));
  await writeFileAtomic(file, "c", undefined, (...args) => calls.push(args));
  await writeFileAtomic(path.join(dir, "missing", "file"), "x", (error) => {
    calls.push([error]);
  });
  assert.deepEqual(calls.slice(0, 3), [[], [], []]);
  assertFailedWith(calls[3][0], "ENOENT");
  assert.equal(text(file), "c");
  // The returned promise settles with what the callback returns.
  assert.equal(await writeFileAtomic(file, "d", () => "done"), "done");
  // Without a callback, failures reject; the sync form throws.
  assertFailedWith(
    await settle(writeFileAtomic(path.join(dir, "missing", "f"), "x")),
    "ENOENT",
  );
  assert.throws(
    () => writeFileAtomicSync(path.join(dir, "missing", "f"), "x"),
    (error) => error instanceof AtomicWriteError && error.code === "ENOENT",
  );
});

test("write-file-atomic: writes through a symbolic link without replacing it", async () => {
  const dir = makeTempDir("aw-compat-");
  const file = path.join(dir, "file");
  const link = path.join(dir, "link");
  fs.writeFileSync(file, "42");
  fs.symlinkSync(file, link);
  await writeFileAtomic(link, "43");
  assert.equal(text(file), "43");
  assert.ok(fs.lstatSync(link).isSymbolicLink());
  writeFileAtomic.sync(link, "44");
  assert.equal(text(file), "44");
  assert.ok(fs.lstatSync(link).isSymbolicLink());
});

test("write-file-atomic: mode is applied, kept by default, and (a difference) filtered by the umask", async () => {
  const dir = makeTempDir("aw-compat-");
  const file = path.join(dir, "file");
  await writeFileAtomic(file, "42", { mode: 0o741 });
  assert.equal(modeOf(file), 0o741);
  await writeFileAtomic(file, "43");
  assert.equal(modeOf(file), 0o741, "kept by default");
  writeFileAtomic.sync(file, "44", { mode: "0640" });
  assert.equal(modeOf(file), 0o640, "an octal string");
  writeFileAtomic.sync(file, "45", { mode: false });
  assert.equal(modeOf(file), 0o640, "false keeps it");
  // The original chmods to exactly 0o777; this library applies the umask.
  const original = path.join(dir, "original");
  await originalWriteFileAtomic(original, "x", { mode: 0o777 });
  await writeFileAtomic(file, "x", { mode: 0o777 });
  assert.equal(modeOf(original), 0o777);
  assert.equal(modeOf(file), underUmask(dir, 0o777));
});

test(
  nameWithSkipReason(
    "write-file-atomic: chown is applied, kept by default, and false leaves it to the OS",
    noRoot,
  ),
  { skip: noRoot },
  async () => {
    const dir = makeTempDir("aw-compat-");
    const file = path.join(dir, "file");
    await writeFileAtomic(file, "42", { chown: { uid: 42, gid: 43 } });
    assert.deepEqual([fs.statSync(file).uid, fs.statSync(file).gid], [42, 43]);
    await writeFileAtomic(file, "43", { mode: 0o741 });
    writeFileAtomic.sync(file, "44");
    assert.deepEqual([fs.statSync(file).uid, fs.statSync(file).gid], [42, 43]);
    await writeFileAtomic(file, "45", { chown: false });
    assert.deepEqual([fs.statSync(file).uid, fs.statSync(file).gid], [0, 0]);
  },
);

test("write-file-atomic: fsync: false writes the same content", async () => {
  const dir = makeTempDir("aw-compat-");
  const file = path.join(dir, "file");
  await writeFileAtomic(file, "fast", { fsync: false });
  writeFileAtomic.sync(file, "faster", { fsync: false });
  assert.equal(text(file), "faster");
});

test("write-file-atomic: concurrent writes to one file are applied in call order", async () => {
  const dir = makeTempDir("aw-compat-");
  const file = path.join(dir, "file");
  await Promise.all(
    Array.from({ length: 50 }, (_, i) => writeFileAtomic(file, String(i))),
  );
  assert.equal(text(file), "49");
});

test("write-file-atomic: differences: typed arrays whole; tmpfileCreated and unknown encodings are TypeErrors", async () => {
  const dir = makeTempDir("aw-compat-");
  const original = path.join(dir, "original");
  const file = path.join(dir, "file");
  const words = new Uint16Array([1, 2, 3]);
  await originalWriteFileAtomic(original, words);
  await writeFileAtomic(file, words);
  // The original writes `length` (3) bytes of a 6-byte Uint16Array.
  assert.equal(bytes(original).length, 3);
  assert.deepEqual(bytes(file), new Uint8Array(words.buffer));
  await assert.rejects(
    writeFileAtomic(file, "x", { tmpfileCreated() {} }),
    (error) =>
      error instanceof TypeError && /tmpfileCreated/.test(error.message),
  );
  assert.throws(
    () => writeFileAtomic.sync(file, "x", { tmpfileCreated() {} }),
    TypeError,
  );
  await assert.rejects(writeFileAtomic(file, "x", "klingon"), TypeError);
  assert.deepEqual(bytes(file), new Uint8Array(words.buffer));
});

test(
  nameWithSkipReason(
    "write-file-atomic: a full disk truncates the file under the original; the shim fails and keeps the old file",
    noRoot,
  ),
  { skip: noRoot },
  async () => {
    await withSmallDisk(async (mount) => {
      const original = path.join(mount, "original");
      const file = path.join(mount, "file");
      const big = new Uint8Array(TWO_MIB).fill(120);
      fs.writeFileSync(original, "old");
      const outcome = await settle(originalWriteFileAtomic(original, big));
      assertTruncatedOutsideDeno(original, outcome);

      fs.writeFileSync(file, "old");
      assertFailedWith(await settle(writeFileAtomic(file, big)), "ENOSPC");
      assert.equal(text(file), "old");
      const calls: unknown[] = [];
      await writeFileAtomic(file, big, (error) => calls.push(error));
      assertFailedWith(calls[0], "ENOSPC");
      assert.throws(() => writeFileAtomic.sync(file, big), /ENOSPC/);
      assert.equal(text(file), "old");
      assert.deepEqual(fs.readdirSync(mount), ["file"]);
    });
  },
);

// ------------------------------------------------------------- atomically

test("atomically: the same bytes and modes as the original for each input", async () => {
  const dir = makeTempDir("aw-compat-");
  const inputs: [string, () => atomically.Data, unknown?][] = [
    ["a string", () => "my_data"],
    ["a Buffer", () => Buffer.from("bytes")],
    ["undefined (empty file)", () => undefined],
    ["utf16le text", () => "foo", "utf16le"],
    ["latin1 text", () => "héllo", { encoding: "latin1" }],
  ];
  for (const [what, make, options] of inputs) {
    const original = path.join(dir, "original");
    const shim = path.join(dir, "shim");
    // deno-lint-ignore no-explicit-any
    await originalAtomically.writeFile(original, make() as any, options as any);
    await atomically.writeFile(
      shim,
      make(),
      options as atomically.WriteOptions,
    );
    assert.deepEqual(bytes(shim), bytes(original), `writeFile, ${what}`);
    // deno-lint-ignore no-explicit-any
    originalAtomically.writeFileSync(original, make() as any, options as any);
    atomically.writeFileSync(
      shim,
      make() as string,
      options as atomically.WriteOptions,
    );
    assert.deepEqual(bytes(shim), bytes(original), `writeFileSync, ${what}`);
  }
  // A Readable stream, asynchronously.
  const original = path.join(dir, "original");
  const shim = path.join(dir, "shim");
  await originalAtomically.writeFile(original, Readable.from(["a", "b"]));
  await atomically.writeFile(shim, Readable.from(["a", "b"]));
  assert.equal(text(shim), text(original));
  assert.equal(text(shim), "ab");
  // mode: false is 0o666 under the umask, as the original opens it.
  for (const file of [original, shim]) fs.chmodSync(file, 0o600);
  await originalAtomically.writeFile(original, "x", { mode: false });
  await atomically.writeFile(shim, "x", { mode: false });
  assert.equal(modeOf(shim), modeOf(original));
  assert.equal(modeOf(shim), underUmask(dir, 0o666));
  await originalAtomically.writeFile(original, "x", { mode: 0o741 });
  await atomically.writeFile(shim, "x", { mode: 0o741 });
  assert.equal(modeOf(shim), modeOf(original));
  await originalAtomically.writeFile(original, "y");
  await atomically.writeFile(shim, "y");
  assert.equal(modeOf(shim), 0o741, "kept by default");
  assert.deepEqual(leftoverTemps(dir), []);
  assert.equal(
    await atomically.readFile(shim, "utf8"),
    await originalAtomically.readFile(original, "utf8"),
  );
  assert.deepEqual(
    atomically.readFileSync(shim),
    originalAtomically.readFileSync(original),
  );
});

test("atomically: creates missing parent directories; the callback and the promise both report", async () => {
  const dir = makeTempDir("aw-compat-");
  const file = path.join(dir, "a", "b", "file.json");
  await atomically.writeFile(file, "{}");
  assert.equal(text(file), "{}");
  atomically.writeFileSync(path.join(dir, "c", "file"), "sync");
  assert.equal(text(path.join(dir, "c", "file")), "sync");
  const calls: unknown[][] = [];
  await atomically.writeFile(file, "1", (...args: unknown[]) => {
    calls.push(args);
  });
  assert.deepEqual(calls, [[]]);
  // A directory where the file should be: the callback gets the error and
  // the promise rejects with it.
  fs.mkdirSync(path.join(dir, "dir"));
  let callbackError: unknown;
  const outcome = await settle(
    atomically.writeFile(path.join(dir, "dir"), "x", (error) => {
      callbackError = error;
    }),
  );
  assert.ok(outcome instanceof AtomicWriteError);
  assert.equal(callbackError, outcome);
});

test("atomically: fsync options, schedule and timeout are honoured", async () => {
  const dir = makeTempDir("aw-compat-");
  const file = path.join(dir, "file");
  await atomically.writeFile(file, "1", { fsync: false });
  await atomically.writeFile(file, "2", { fsyncWait: false, timeout: 100 });
  atomically.writeFileSync(file, "3", { fsyncWait: false, timeout: 0 });
  assert.equal(text(file), "3");
  // timeout becomes busyRetry (-1 and 0: none; Infinity: no time limit).
  await atomically.writeFile(file, "3", { timeout: -1 });
  await atomically.writeFile(file, "3", { timeout: Infinity });
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    atomically.writeFile(file, "x", { timeout: "7500" as any }),
    TypeError,
  );
  assert.equal(text(file), "3");
  const events: string[] = [];
  await atomically.writeFile(file, "4", {
    schedule: (filePath) => {
      events.push(`schedule ${filePath === file}`);
      return Promise.resolve(() => {
        events.push(`dispose after the write: ${text(file)}`);
      });
    },
  });
  assert.deepEqual(events, ["schedule true", "dispose after the write: 4"]);
  // The disposer also runs when the write fails.
  events.length = 0;
  fs.mkdirSync(path.join(dir, "dir"));
  await settle(atomically.writeFile(path.join(dir, "dir"), "x", {
    schedule: () => Promise.resolve(() => events.push("disposed")),
  }));
  assert.deepEqual(events, ["disposed"]);
});

test("atomically: differences: tmpCreate, tmpCreated and tmpPurge: false are TypeErrors", async () => {
  const dir = makeTempDir("aw-compat-");
  const file = path.join(dir, "file");
  fs.writeFileSync(file, "old");
  for (
    const options of [
      { tmpCreate: (p: string) => `${p}.tmp` },
      { tmpCreated: () => {} },
      { tmpPurge: false },
    ]
  ) {
    await assert.rejects(atomically.writeFile(file, "x", options), TypeError);
    assert.throws(
      () => atomically.writeFileSync(file, "x", options),
      TypeError,
    );
  }
  await atomically.writeFile(file, "new", { tmpPurge: true });
  assert.equal(text(file), "new");
});

test(
  nameWithSkipReason(
    "atomically: a full disk truncates the file under the original; the shim fails and keeps the old file",
    noRoot,
  ),
  { skip: noRoot },
  async () => {
    await withSmallDisk(async (mount) => {
      const original = path.join(mount, "original");
      const file = path.join(mount, "file");
      const big = new Uint8Array(TWO_MIB).fill(120);
      fs.writeFileSync(original, "old");
      const outcome = await settle(originalAtomically.writeFile(original, big));
      assertTruncatedOutsideDeno(original, outcome);

      fs.writeFileSync(file, "old");
      assertFailedWith(await settle(atomically.writeFile(file, big)), "ENOSPC");
      assert.throws(() => atomically.writeFileSync(file, big), /ENOSPC/);
      assert.equal(text(file), "old");
      assert.deepEqual(fs.readdirSync(mount), ["file"]);
    });
  },
);

// ------------------------------------------------------------------ steno

test("steno: 1000 concurrent writes all resolve, the last wins, each after its own data or newer (string and URL paths, side by side)", async () => {
  const dir = makeTempDir("aw-compat-");
  const max = 1000;
  for (
    const [name, make] of [
      ["original", (f: string) => new OriginalWriter(f)],
      ["shim", (f: string) => new Writer(f)],
      ["shim, URL", (f: string) => new Writer(pathToFileURL(f))],
    ] as const
  ) {
    const file = path.join(dir, name.replace(/\W/g, ""));
    const writer = make(file);
    const seenAtResolve: number[] = [];
    const promises = [];
    for (let i = 1; i <= max; ++i) {
      promises.push(
        writer.write(String(i)).then(() =>
          seenAtResolve[i] = parseInt(text(file))
        ),
      );
    }
    await Promise.all(promises);
    assert.equal(text(file), String(max), name);
    for (let i = 1; i <= max; ++i) {
      assert.ok(
        seenAtResolve[i] >= i,
        `${name}: call ${i} saw ${seenAtResolve[i]}`,
      );
    }
  }
  // The coalescing is real: far fewer writes than calls (none left behind).
  assert.deepEqual(leftoverTemps(dir), []);
});

test("steno: bytes are written as given; durability can be relaxed", async () => {
  const dir = makeTempDir("aw-compat-");
  const file = path.join(dir, "file");
  await new Writer(file).write(new Uint8Array([104, 105]));
  assert.equal(text(file), "hi");
  await new Writer(file, { durability: "none" }).write("fast");
  assert.equal(text(file), "fast");
});

test("steno: a write into a missing directory rejects every caller and leaves nothing", async () => {
  const dir = makeTempDir("aw-compat-");
  const writer = new Writer(path.join(dir, "missing", "file"));
  const outcomes = await Promise.all(
    ["1", "2", "3"].map((data) => settle(writer.write(data))),
  );
  for (const outcome of outcomes) assertFailedWith(outcome, "ENOENT");
  assert.deepEqual(fs.readdirSync(dir), []);
});

test(
  nameWithSkipReason(
    "steno: on a full disk the write rejects and keeps the old file, with no temp left (the original leaves .NAME.tmp); a later write succeeds",
    noRoot,
  ),
  { skip: noRoot },
  async () => {
    await withSmallDisk(async (mount) => {
      const big = new Uint8Array(TWO_MIB).fill(120);
      const left: Record<string, string[]> = {};
      for (
        const [name, make] of [
          ["original", (f: string) => new OriginalWriter(f)],
          ["shim", (f: string) => new Writer(f)],
        ] as const
      ) {
        const file = path.join(mount, name);
        fs.writeFileSync(file, "old");
        const writer = make(file);
        const failed = await settle(writer.write(big));
        assert.equal(
          (failed as { code?: string }).code,
          "ENOSPC",
          `${name}: ${failed}`,
        );
        assert.equal(text(file), "old", name);
        left[name] = fs.readdirSync(mount).filter((n) => n.startsWith("."));
        await writer.write("small");
        assert.equal(text(file), "small", name);
      }
      // The original leaves its temp file, up to the disk's size, until a
      // later write renames it; the shim removes its own at once.
      assert.deepEqual(left, { original: [".original.tmp"], shim: [] });
      assert.deepEqual(fs.readdirSync(mount).sort(), ["original", "shim"]);
    });
  },
);
