/**
 * Self-checking document content for the crash demo: a one-line header with
 * the version, the body's length in bytes and its FNV-1a checksum, then the
 * body. Reading a file back tells whole (and which version) from torn or
 * empty without knowing what was written.
 */

/** What a file holds, as far as its own header can tell. */
export type Verdict =
  | { kind: "whole"; version: number; bytes: number }
  | { kind: "empty" }
  | { kind: "missing" }
  | { kind: "torn"; bytes: number; expected?: number };

const encoder = new TextEncoder();
const HEADER =
  /^atomic-write demo version=(\d+) bytes=(\d+) fnv=([0-9a-f]{8})\n/;

/** 32-bit FNV-1a: enough to tell a torn body from a whole one. */
export function fnv1a(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    hash = Math.imul(hash ^ bytes[i], 0x01000193);
  }
  return hash >>> 0;
}

/**
 * The body of a document: the editor's text, then numbered filler lines up
 * to `size` bytes, so that a write takes long enough to be interrupted. The
 * versions of one text differ only in their header, so a save costs little
 * more than its write (the body is made once per text).
 */
export function body(text: string, size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  let at = encoder.encodeInto(`${text}\n`, bytes).written;
  for (let line = 1; at < size; line++) {
    const filler =
      `line ${line}: the quick brown fox jumps over the lazy dog\n`;
    at += encoder.encodeInto(filler, bytes.subarray(at)).written;
  }
  return bytes;
}

/** The header line that vouches for `bodyBytes`. */
export function header(
  version: number,
  bodyBytes: Uint8Array,
): Uint8Array<ArrayBuffer> {
  const sum = fnv1a(bodyBytes).toString(16).padStart(8, "0");
  return encoder.encode(
    `atomic-write demo version=${version} bytes=${bodyBytes.length} fnv=${sum}\n`,
  );
}

/** Checks a file's bytes against its header. */
export function verdict(bytes: Uint8Array | undefined): Verdict {
  if (bytes === undefined) return { kind: "missing" };
  if (bytes.length === 0) return { kind: "empty" };
  const start = new TextDecoder().decode(bytes.subarray(0, 120));
  const match = HEADER.exec(start);
  if (!match) return { kind: "torn", bytes: bytes.length };
  const headerLength = encoder.encode(match[0]).length;
  const expected = Number(match[2]);
  const content = bytes.subarray(headerLength);
  if (
    content.length !== expected ||
    fnv1a(content).toString(16).padStart(8, "0") !== match[3]
  ) {
    return { kind: "torn", bytes: bytes.length, expected };
  }
  return { kind: "whole", version: Number(match[1]), bytes: bytes.length };
}

/** A verdict in words (readable without colour). */
export function describe(v: Verdict): string {
  switch (v.kind) {
    case "whole":
      return `WHOLE: version ${v.version}, ${
        v.bytes.toLocaleString("en")
      } bytes, checksum matches`;
    case "empty":
      return "EMPTY: 0 bytes (truncated, the new data never arrived)";
    case "missing":
      return "no file yet";
    case "torn":
      return v.expected === undefined
        ? `TORN: ${v.bytes.toLocaleString("en")} bytes, no valid header`
        : `TORN: ${v.bytes.toLocaleString("en")} bytes, its header promised ${
          v.expected.toLocaleString("en")
        } bytes of body with a checksum that does not match`;
  }
}
