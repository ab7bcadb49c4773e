/**
 * Every kind of Blob is written byte-exact in every mode, against every
 * backend this runtime hosts: replace, append (onto content and onto a
 * missing file), `openAtomic` with `blob.stream()` piped into its writable,
 * and `blob.stream()` given to `writeFile`. The content is a non-zero pattern
 * that depends on the position, so zero padding, truncation or a shift shows.
 */

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, test } from "node:test";
import {
  availableBackends,
  createBackend,
  leftoverTemps,
  makeTempDir,
  nameWithSkipReason,
  readBytes,
  RUNTIME,
  type Subject,
  subjectFor,
} from "./_helpers.ts";

const SIZES = [0, 1, 1023, 1024, 4096, 65537, 1024 * 1024 + 3];

/** Bytes 1..255 that depend on the position and do not repeat every 256. */
function pattern(size: number, seed: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    bytes[i] = 1 + (i * 131 + (i >>> 8) * 7 + seed) % 255;
  }
  return bytes;
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const joined = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}

/** Where two byte arrays first differ, or undefined if they are equal. */
function difference(
  actual: Uint8Array,
  expected: Uint8Array,
): string | undefined {
  const length = Math.min(actual.length, expected.length);
  let index = 0;
  while (index < length && actual[index] === expected[index]) index++;
  if (index === length && actual.length === expected.length) return undefined;
  const where = index < length
    ? `first difference at byte ${index} (${actual[index]} instead of ${
      expected[index]
    })`
    : "equal up to the shorter length";
  return `${actual.length} bytes instead of ${expected.length}, ${where}`;
}

interface BunFiles {
  file(path: string): Blob;
}
const bun = (globalThis as { Bun?: BunFiles }).Bun;
const openAsBlob = (fs as { openAsBlob?: (path: string) => Promise<Blob> })
  .openAsBlob;

/** Bytes before and after a slice, so a slice that is ignored shows. */
const PREFIX = pattern(5, 200);
const SUFFIX = pattern(7, 300);

/** One kind of Blob holding `bytes`, made afresh for each write. */
interface BlobKind {
  name: string;
  /** Why this runtime has no such Blob, or undefined. */
  skip?: string;
  make(bytes: Uint8Array<ArrayBuffer>, dir: string): Blob | Promise<Blob>;
}

/** Writes `content` to a fresh source file in `dir` and returns its path. */
function sourceFile(dir: string, content: Uint8Array): string {
  const file = path.join(dir, `source-${Math.random().toString(36).slice(2)}`);
  fs.writeFileSync(file, content);
  return file;
}

const noBun = bun ? undefined : "Bun.file needs Bun";
const noOpenAsBlob = openAsBlob ? undefined : `no fs.openAsBlob in ${RUNTIME}`;

const KINDS: BlobKind[] = [
  { name: "new Blob", make: (bytes) => new Blob([bytes]) },
  { name: "File", make: (bytes) => new File([bytes], "data.bin") },
  {
    name: "sliced in-memory Blob",
    make: (bytes) =>
      new Blob([PREFIX, bytes, SUFFIX]).slice(
        PREFIX.length,
        PREFIX.length + bytes.length,
      ),
  },
  {
    name: "Bun.file",
    skip: noBun,
    make: (bytes, dir) => bun!.file(sourceFile(dir, bytes)),
  },
  {
    name: "sliced Bun.file",
    skip: noBun,
    make: (bytes, dir) =>
      bun!.file(sourceFile(dir, concat(PREFIX, bytes, SUFFIX))).slice(
        PREFIX.length,
        PREFIX.length + bytes.length,
      ),
  },
  {
    name: "fs.openAsBlob",
    skip: noOpenAsBlob,
    make: (bytes, dir) => openAsBlob!(sourceFile(dir, bytes)),
  },
  {
    name: "sliced fs.openAsBlob",
    skip: noOpenAsBlob,
    make: async (bytes, dir) =>
      (await openAsBlob!(sourceFile(dir, concat(PREFIX, bytes, SUFFIX))))
        .slice(PREFIX.length, PREFIX.length + bytes.length),
  },
];

/** Old content of the target, where there is one. */
const OLD = pattern(4, 100);
/** Longer than several new sizes, so a replace that does not truncate shows. */
const LONG_OLD = pattern(3000, 150);

/** One way of writing a Blob; returns the content the target must have. */
interface Mode {
  name: string;
  write(
    subject: Subject,
    target: string,
    blob: Blob,
    bytes: Uint8Array,
  ): Promise<Uint8Array>;
}

const MODES: Mode[] = [
  {
    name: "replace an existing file",
    async write({ api }, target, blob, bytes) {
      fs.writeFileSync(target, LONG_OLD);
      await api.writeFile(target, blob);
      return bytes;
    },
  },
  {
    name: "append onto an existing file",
    async write({ api }, target, blob, bytes) {
      fs.writeFileSync(target, OLD);
      await api.writeFile(target, blob, { append: true });
      return concat(OLD, bytes);
    },
  },
  {
    name: "append onto a missing file",
    async write({ api }, target, blob, bytes) {
      await api.writeFile(target, blob, { append: true });
      return bytes;
    },
  },
  {
    name: "blob.stream() to writeFile",
    async write({ api }, target, blob, bytes) {
      fs.writeFileSync(target, LONG_OLD);
      await api.writeFile(target, blob.stream());
      return bytes;
    },
  },
  {
    name: "blob.stream() to writeFile, appending",
    async write({ api }, target, blob, bytes) {
      fs.writeFileSync(target, OLD);
      await api.writeFile(target, blob.stream(), { append: true });
      return concat(OLD, bytes);
    },
  },
  {
    name: "blob.stream() piped into openAtomic's writable",
    async write({ api }, target, blob, bytes) {
      fs.writeFileSync(target, LONG_OLD);
      const file = await api.openAtomic(target);
      await blob.stream().pipeTo(file.writable);
      return bytes;
    },
  },
  {
    name: "blob.stream() piped into openAtomic's writable, appending",
    async write({ api }, target, blob, bytes) {
      fs.writeFileSync(target, OLD);
      const file = await api.openAtomic(target, { append: true });
      await blob.stream().pipeTo(file.writable);
      return concat(OLD, bytes);
    },
  },
];

function registerBlobKinds(subject: Subject): void {
  describe(`Blob kinds: ${subject.name} backend in ${RUNTIME}`, () => {
    for (const kind of KINDS) {
      for (const mode of MODES) {
        test(
          nameWithSkipReason(`${kind.name}: ${mode.name}`, kind.skip),
          { skip: kind.skip ?? false, timeout: 120_000 },
          async () => {
            const dir = makeTempDir();
            try {
              // Every size is tried, so one run shows the whole pattern.
              const failures: string[] = [];
              for (const size of SIZES) {
                const target = path.join(dir, `target-${size}`);
                const bytes = pattern(size, size);
                try {
                  const blob = await kind.make(bytes, dir);
                  assert.equal(blob.size, size, "the Blob's own size");
                  const expected = await mode.write(
                    subject,
                    target,
                    blob,
                    bytes,
                  );
                  const problem = difference(readBytes(target), expected);
                  if (problem) failures.push(`${size} B: ${problem}`);
                } catch (error) {
                  const { code, message } = error as Error & { code?: string };
                  failures.push(`${size} B: threw ${code ?? ""} ${message}`);
                }
              }
              assert.deepEqual(failures, []);
              assert.deepEqual(leftoverTemps(dir), [], "temp files left");
            } finally {
              fs.rmSync(dir, { recursive: true, force: true });
            }
          },
        );
      }
    }

    test("openAtomic's write() refuses a Blob with a TypeError", async () => {
      const dir = makeTempDir();
      try {
        const target = path.join(dir, "target");
        fs.writeFileSync(target, OLD);
        const file = await subject.api.openAtomic(target);
        await assert.rejects(
          file.write(new Blob([pattern(10, 1)]) as unknown as Uint8Array),
          TypeError,
        );
        await file.discard();
        assert.deepEqual(readBytes(target), OLD);
        assert.deepEqual(leftoverTemps(dir), []);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

for (const name of availableBackends()) {
  registerBlobKinds(subjectFor(name, createBackend(name)));
}
