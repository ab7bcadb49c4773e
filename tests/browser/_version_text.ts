/** `writer:n:` padded, with its length first, so a torn file is recognisable. */
export function versionText(writer: string, n: number): string {
  const body = `${writer}:${n}:`.padEnd(2000 + n * 37, "*");
  return `${body.length}|${body}`;
}

/** True if `text` is exactly one `versionText`. */
export function isWhole(text: string): boolean {
  const bar = text.indexOf("|");
  return bar > 0 && Number(text.slice(0, bar)) === text.length - bar - 1;
}

/** Version `n` of the crash test's looped file (64 KiB): number at both ends. */
export function loopedVersion(n: number): string {
  return `${n}:${"x".repeat(64 * 1024)}:${n}`;
}

/** True if `text` is exactly one `loopedVersion`. */
export function isWholeLoopedVersion(text: string): boolean {
  return /^(\d+):x{65536}:\1$/.test(text);
}
