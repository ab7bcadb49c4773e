/**
 * Option mapping shared by the migration shims: each original library takes
 * Node's encodings, octal-string modes and `{ uid, gid }` owners.
 */

import { Buffer } from "node:buffer";
import type { Ownership } from "../options.ts";

/**
 * Text in the requested encoding. UTF-8 stays a string (this library writes
 * strings as UTF-8); any other of Node's encodings is encoded here, as the
 * originals do through `fs.write`. An unknown encoding is a TypeError.
 */
export function encodeText(
  text: string,
  encoding: unknown,
  fn: string,
): string | Uint8Array {
  if (encoding === undefined || encoding === null) return text;
  if (typeof encoding !== "string" || !Buffer.isEncoding(encoding)) {
    throw new TypeError(
      `Expected "encoding" of ${fn} to be one of Node's encodings ("utf8", "latin1", "utf16le", "base64", "hex", ...), got ${
        typeof encoding === "string"
          ? JSON.stringify(encoding)
          : typeof encoding
      }`,
    );
  }
  if (/^utf-?8$/i.test(encoding)) return text;
  return Buffer.from(text, encoding);
}

/**
 * A mode as the originals take it: a number, or an octal string such as
 * `"0644"` (as `fs.open` parses it). `false` and `undefined` mean "not
 * given".
 */
export function parseMode(mode: unknown, fn: string): number | undefined {
  if (mode === undefined || mode === null || mode === false) return undefined;
  if (typeof mode === "number") return mode;
  if (typeof mode === "string" && /^[0-7]+$/.test(mode)) {
    return parseInt(mode, 8);
  }
  throw new TypeError(
    `Expected "mode" of ${fn} to be a number, an octal string or false, got ${
      typeof mode === "string" ? JSON.stringify(mode) : typeof mode
    }`,
  );
}

/** `chown` as the originals take it: `{ uid, gid }`, `false` or nothing. */
export function parseChown(
  chown: unknown,
  fn: string,
): Ownership | false | undefined {
  if (chown === undefined || chown === null) return undefined;
  if (chown === false) return false;
  if (
    typeof chown === "object" &&
    typeof (chown as Ownership).uid === "number" &&
    typeof (chown as Ownership).gid === "number"
  ) {
    const { uid, gid } = chown as Ownership;
    return { uid, gid };
  }
  throw new TypeError(
    `Expected "chown" of ${fn} to be { uid, gid } or false, got ${typeof chown}`,
  );
}

/**
 * Refuses a temp-file option: this library names, creates and removes its
 * own temp files (`cleanupTemps` recognises them by name) and does not hand
 * out their paths, so the option cannot be honoured; silently dropping a
 * callback would leave its caller waiting for a call that never comes.
 */
export function refuseTempOption(
  options: Record<string, unknown>,
  names: readonly string[],
  fn: string,
): void {
  for (const name of names) {
    if (options[name] !== undefined) {
      throw new TypeError(
        `The "${name}" option of ${fn} is not supported: this library creates, names and removes its own temp files and does not expose their paths; remove the option (see the README, "Migrating")`,
      );
    }
  }
}
