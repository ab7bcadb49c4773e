/**
 * Path arguments: `file:` URLs follow Node's `url.fileURLToPath` (POSIX
 * rules), strings are plain paths even when they start with "file:", and
 * byte paths are refused with a hint. Every refusal is a TypeError, thrown
 * before anything is written, naming "path", what was expected and what was
 * given.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { AtomicWriteError, writeFile } from "../mod.ts";
import {
  availableBackends,
  createBackend,
  makeTempDir,
  nameWithSkipReason,
  subjectFor,
} from "./_helpers.ts";

/** The URLs here are POSIX ones; Windows rules (drives, UNC) are not tested. */
const POSIX = {
  skip: process.platform === "win32" ? "POSIX file: URLs" : undefined,
};

/** Every file and directory under `dir`, relative, sorted. */
function listing(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).sort();
}

/** Asserts a path argument error: a TypeError naming "path" and the value. */
function isPathError(given: string) {
  return (error: unknown) => {
    assert.ok(
      error instanceof TypeError,
      `expected a TypeError, got ${error}`,
    );
    assert.ok(!(error instanceof AtomicWriteError));
    assert.match(error.message, /^Expected "path" /);
    assert.ok(
      error.message.includes(`got ${given}`),
      `message ${JSON.stringify(error.message)} does not say it got ${given}`,
    );
    return true;
  };
}

/** URL tails (after the temp directory) that name a file inside it. */
const VALID = [
  "/a%20b", // a b
  "/%C3%A9", // é, two UTF-8 bytes
  "/%F0%9F%98%80", // an emoji, four UTF-8 bytes (a surrogate pair in JS)
  "/a%25b", // a%b: a decoded "%" is not decoded again
  "/%5C", // a backslash is an ordinary character on POSIX
  "/q?x=1#h", // query and fragment are not part of the path
  "/sub/../up", // dot segments are resolved by the URL parser
  "/sub/%2e%2e/dots", // encoded dots too
];

/** URLs that are TypeErrors, as functions of the temp directory. */
const INVALID: [string, (dir: string) => string][] = [
  [
    "a file: URL with a host other than localhost",
    (dir) => `file://server${dir}/x`,
  ],
  ["a file: URL with an encoded slash (%2F)", (dir) => `file://${dir}/a%2Fb`],
  ["a file: URL with an encoded slash (%2f)", (dir) => `file://${dir}/a%2fb`],
  ["a file: URL with a truncated escape", (dir) => `file://${dir}/%E0%A4%A`],
  [
    "a file: URL with a byte that is not UTF-8 (%FF)",
    (dir) => `file://${dir}/%FF`,
  ],
  [
    "a file: URL with a lone surrogate (%ED%A0%80)",
    (dir) => `file://${dir}/%ED%A0%80`,
  ],
  ["a file: URL with a NUL (%00)", (dir) => `file://${dir}/a%00b`],
  ["an http: URL", (dir) => `http://localhost${dir}/x`],
  ["a data: URL", () => "data:text/plain,x"],
];

for (const name of availableBackends()) {
  const { api } = subjectFor(name, createBackend(name));

  test(
    nameWithSkipReason(
      `${name}: a file: URL is written where Node's fileURLToPath says`,
      POSIX.skip,
    ),
    POSIX,
    async () => {
      const dir = makeTempDir();
      try {
        fs.mkdirSync(path.join(dir, "sub"));
        const hosts = ["", "localhost", "LOCALHOST"];
        const written = ["sub"];
        for (const [index, tail] of VALID.entries()) {
          const url = new URL(`file://${hosts[index % 3]}${dir}${tail}`);
          const expected = fileURLToPath(url);
          assert.ok(expected.startsWith(`${dir}/`), expected);
          await api.writeFile(url, tail);
          assert.equal(fs.readFileSync(expected, "utf8"), tail, url.href);
          written.push(path.relative(dir, expected));
        }
        // Nothing else was written (no literal "a%20b", no "q?x=1").
        assert.deepEqual(listing(dir), written.sort());
        // The synchronous variant decodes the same way.
        const sync = new URL(`file://${dir}/sync%20%C3%A9`);
        api.writeFileSync(sync, "s");
        assert.equal(fs.readFileSync(path.join(dir, "sync é"), "utf8"), "s");
      } finally {
        fs.rmSync(dir, { recursive: true });
      }
    },
  );

  for (const [what, make] of INVALID) {
    test(
      nameWithSkipReason(
        `${name}: ${what} is a TypeError that writes nothing`,
        POSIX.skip,
      ),
      POSIX,
      async () => {
        const dir = makeTempDir();
        try {
          // Were "%2F" decoded to a separator, "a/b" would be writable.
          fs.mkdirSync(path.join(dir, "a"));
          const url = new URL(make(dir));
          const given = `the URL "${url.href}"`;
          await assert.rejects(api.writeFile(url, "x"), isPathError(given));
          assert.throws(() => api.writeFileSync(url, "x"), isPathError(given));
          await assert.rejects(api.openAtomic(url), isPathError(given));
          await assert.rejects(api.cleanupTemps(url), isPathError(given));
          assert.deepEqual(listing(dir), ["a"]);
        } finally {
          fs.rmSync(dir, { recursive: true });
        }
      },
    );
  }

  test(`${name}: a string starting with "file:" is a plain path`, async () => {
    const dir = makeTempDir();
    const cwd = process.cwd();
    try {
      process.chdir(dir);
      await api.writeFile("file:plain", "1");
      api.writeFileSync(`${dir}/file:a%20b`, "2");
      assert.deepEqual(listing(dir), ["file:a%20b", "file:plain"]);
    } finally {
      process.chdir(cwd);
      fs.rmSync(dir, { recursive: true });
    }
  });

  test(`${name}: byte paths are refused with a hint on how to convert`, async () => {
    const dir = makeTempDir();
    try {
      const bytes = new TextEncoder().encode(`${dir}/x`);
      for (const value of [bytes, Buffer.from(bytes)]) {
        const given = `an instance of ${value.constructor.name}`;
        const check = (error: unknown) =>
          isPathError(given)(error) &&
          /TextDecoder/.test((error as Error).message);
        await assert.rejects(api.writeFile(value as never, "x"), check);
        assert.throws(() => api.writeFileSync(value as never, "x"), check);
      }
      assert.deepEqual(listing(dir), []);
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });

  test(`${name}: other path errors say what was given`, async () => {
    const dir = makeTempDir();
    try {
      await assert.rejects(api.writeFile("", "x"), isPathError(`""`));
      await assert.rejects(
        api.writeFile(`${dir}/a\0b`, "x"),
        isPathError(JSON.stringify(`${dir}/a\0b`)),
      );
      await assert.rejects(
        api.writeFile(42 as never, "x"),
        isPathError("number 42"),
      );
      await assert.rejects(
        api.writeFile(undefined as never, "x"),
        isPathError("undefined"),
      );
      assert.deepEqual(listing(dir), []);
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });
}

test(
  nameWithSkipReason(
    "Node's fileURLToPath refuses the same URLs, except on bytes it cannot decode",
    POSIX.skip,
  ),
  POSIX,
  () => {
    // Node throws a URIError for bad escapes (Bun 1.4 even returns ""); the
    // library makes those a TypeError like every other path error.
    const dir = "/tmp/x";
    for (const [what, make] of INVALID.slice(0, 3)) {
      assert.throws(() => fileURLToPath(new URL(make(dir))), TypeError, what);
    }
  },
);

test(
  nameWithSkipReason(
    "mod.ts: writeFile takes a file: URL and refuses a foreign host",
    POSIX.skip,
  ),
  POSIX,
  async () => {
    const dir = makeTempDir();
    try {
      const url = new URL(`file://${dir}/%C3%A9%20x`);
      await writeFile(url, "ok");
      assert.equal(fs.readFileSync(fileURLToPath(url), "utf8"), "ok");
      await assert.rejects(
        writeFile(new URL(`file://example.com${dir}/y`), "x"),
        isPathError(`the URL "file://example.com${dir}/y"`),
      );
      assert.deepEqual(listing(dir), ["é x"]);
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  },
);
