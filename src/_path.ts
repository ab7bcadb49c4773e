/**
 * Path helpers that need no `node:path` (so browser bundles stay clean) and
 * the temp-file naming scheme.
 */

/**
 * Turns a path argument into a path string, validating it. A string is a path
 * as it stands, even one starting with "file:" (as in Node's and Deno's fs); a
 * `file:` URL is converted as Node's `url.fileURLToPath` does on POSIX.
 */
export function toPath(path: unknown): string {
  if (path instanceof URL) return fileUrlToPath(path);
  if (typeof path !== "string") {
    // Node's fs takes byte paths for names that are not UTF-8; a JS string
    // cannot hold those, so decoding here would only half support them.
    const hint = ArrayBuffer.isView(path)
      ? ` (decode a byte path first: new TextDecoder("utf-8", { fatal: true }).decode(path))`
      : "";
    throw new TypeError(
      `Expected "path" to be a string or file: URL, got ${
        describe(path)
      }${hint}`,
    );
  }
  if (path === "") {
    throw new TypeError(`Expected "path" to be a non-empty string, got ""`);
  }
  if (path.includes("\0")) {
    throw new TypeError(
      `Expected "path" without NUL bytes, got ${JSON.stringify(path)}`,
    );
  }
  return path;
}

/** `url.fileURLToPath` for POSIX, with every refusal a TypeError. */
function fileUrlToPath(url: URL): string {
  const refuse = (expected: string) =>
    new TypeError(
      `Expected "path" to be ${expected}, got the URL ${
        JSON.stringify(url.href)
      }`,
    );
  if (url.protocol !== "file:") throw refuse("a string or file: URL");
  // The URL parser already empties "localhost". Any other host names another
  // machine; dropping it would write a local file instead.
  if (url.hostname !== "") {
    throw refuse(`a file: URL with no host or "localhost"`);
  }
  // A decoded "/" would split one name into two path components.
  if (/%2f/i.test(url.pathname)) {
    throw refuse(`a file: URL without an encoded "/" (%2F)`);
  }
  let pathname: string;
  try {
    // Decodes the escapes as UTF-8; bytes that are not UTF-8 have no string.
    pathname = decodeURIComponent(url.pathname);
  } catch {
    throw refuse("a file: URL whose %-escapes are complete and valid UTF-8");
  }
  if (pathname.includes("\0")) {
    throw refuse("a file: URL without NUL bytes (%00)");
  }
  // file:///C:/x -> C:/x on Windows.
  if (/^\/[A-Za-z]:\//.test(pathname)) pathname = pathname.slice(1);
  return pathname;
}

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "object" || typeof value === "function") {
    const name = (value as { constructor?: { name?: string } }).constructor
      ?.name;
    return name ? `an instance of ${name}` : `an object`;
  }
  return `${typeof value} ${String(value)}`;
}

function lastSeparator(path: string, backslash: boolean): number {
  const slash = path.lastIndexOf("/");
  return backslash ? Math.max(slash, path.lastIndexOf("\\")) : slash;
}

/** Splits a path into its directory and its last component. */
export function splitPath(
  path: string,
  backslash = false,
): { directory: string; name: string } {
  let end = path.length;
  while (end > 1 && isSeparator(path[end - 1], backslash)) end--;
  const trimmed = path.slice(0, end);
  const index = lastSeparator(trimmed, backslash);
  if (index < 0) return { directory: ".", name: trimmed };
  const directory = index === 0 ? trimmed[0] : trimmed.slice(0, index);
  return { directory, name: trimmed.slice(index + 1) };
}

function isSeparator(char: string | undefined, backslash: boolean): boolean {
  return char === "/" || (backslash && char === "\\");
}

/** The path without trailing separators (but "/" stays "/"). */
export function trimSeparators(path: string, backslash = false): string {
  let end = path.length;
  while (end > 1 && isSeparator(path[end - 1], backslash)) end--;
  return path.slice(0, end);
}

/** True for `/x`, and on Windows for `C:\x`, `C:/x` and `\\server\x`. */
export function isAbsolute(path: string, backslash = false): boolean {
  if (path.startsWith("/")) return true;
  return backslash && (/^[A-Za-z]:[\\/]/.test(path) || path.startsWith("\\"));
}

/** Joins a directory and a name. */
export function joinPath(directory: string, name: string): string {
  return directory.endsWith("/") || directory.endsWith("\\")
    ? directory + name
    : `${directory}/${name}`;
}

/** Suffix of every temp file; `cleanupTemps` only touches names ending so. */
export const TEMP_SUFFIX = ".atomic-tmp";

/**
 * `.NAME.OWNER.RANDOM.atomic-tmp`: hidden, beside the target, recognisable,
 * with 80 random bits. NAME is the target's name cut to at most 64 UTF-8
 * bytes; OWNER (at most 30 bytes, see `_owner.ts`) names the writer so that
 * `cleanupTemps` can tell a dead writer's temp file from a live one's; it is
 * left out (`.NAME.RANDOM.atomic-tmp`, as older versions wrote) where the
 * writer cannot name itself. The temp name stays under 130 bytes, well below
 * the usual 255-byte limit, whatever the target.
 */
export const TEMP_NAME_PATTERN = /^\..*\.[0-9a-v]{16}\.atomic-tmp$/;

const MAX_NAME_BYTES = 64;
const encoder = new TextEncoder();

/**
 * A fresh, unguessable temp name for a target named `name`, written by
 * `owner` (the backend's `tempOwner`; none: no owner in the name).
 */
export function tempName(name: string, owner?: string): string {
  let prefix = name;
  // A UTF-16 code unit encodes to at most 3 UTF-8 bytes: most names need
  // no encoding to know they are short enough.
  if (
    name.length * 3 > MAX_NAME_BYTES &&
    encoder.encode(prefix).length > MAX_NAME_BYTES
  ) {
    // Cut by code points so that no character is split.
    const kept: string[] = [];
    let bytes = 0;
    for (const char of name) {
      const size = encoder.encode(char).length;
      if (bytes + size > MAX_NAME_BYTES) break;
      kept.push(char);
      bytes += size;
    }
    prefix = kept.join("");
  }
  return owner === undefined
    ? `.${prefix}.${randomToken()}${TEMP_SUFFIX}`
    : `.${prefix}.${owner}.${randomToken()}${TEMP_SUFFIX}`;
}

const ALPHABET = "0123456789abcdefghijklmnopqrstuv";

/**
 * Random bytes fetched in bulk: one `getRandomValues` call costs about as
 * much as a small write's syscalls in Node (~10 us), and a temp name needs
 * only 16 bytes.
 */
const randomPool = new Uint8Array(4096);
let randomOffset = randomPool.length;

/** 16 base-32 characters from 80 random bits. */
function randomToken(): string {
  if (randomOffset === randomPool.length) {
    crypto.getRandomValues(randomPool);
    randomOffset = 0;
  }
  let token = "";
  const end = randomOffset + 16;
  for (; randomOffset < end; randomOffset++) {
    token += ALPHABET[randomPool[randomOffset] & 31];
  }
  return token;
}
