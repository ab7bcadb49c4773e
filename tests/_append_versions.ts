/**
 * Self-checking appends for the power-cut suite's append case: the file
 * starts as `APPEND_BASE`, and append n adds `appendedLine(n)`, so a whole
 * version is the base followed by lines 1..k, exactly.
 */

/** The content the file starts with: 1 MiB, so that copying it costs. */
export const APPEND_BASE = "base\n".padEnd(1024 * 1024 - 1, "b") + "\n";

/** Line n, 100 to ~3,700 bytes long, so appends cross block boundaries. */
export function appendedLine(n: number): string {
  return `${n}:`.padEnd(100 + (n % 13) * 300, "+") + "\n";
}

/**
 * The number of appends k if `content` is exactly the base followed by lines
 * 1..k; undefined for anything else (torn, reordered, missing base).
 */
export function appendedCount(content: string): number | undefined {
  if (!content.startsWith(APPEND_BASE)) return undefined;
  let at = APPEND_BASE.length;
  let n = 0;
  while (at < content.length) {
    const line = appendedLine(n + 1);
    if (!content.startsWith(line, at)) return undefined;
    at += line.length;
    n++;
  }
  return n;
}
