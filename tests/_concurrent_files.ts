/**
 * The files the concurrent writer of the power-cut test (`_kill_child.ts`
 * MODE `concurrent`) replaces at once, shared by the writer and the checker:
 * `CONCURRENT_FILES` of them, alternating between two directories beside
 * FILE, so that each directory has its own group commit and, with writes
 * spanning directories, the create and the rename go to the thread pool.
 */

import * as path from "node:path";

/** Files written at once. */
export const CONCURRENT_FILES = 8;

/** The directories they alternate between, beside FILE. */
export function concurrentDirectories(file: string): string[] {
  const { dir } = path.parse(file);
  return [path.join(dir, "a"), path.join(dir, "b")];
}

/** FILE-0 in the first directory, FILE-1 in the second, and so on. */
export function concurrentFiles(file: string): string[] {
  const directories = concurrentDirectories(file);
  const { base } = path.parse(file);
  return Array.from(
    { length: CONCURRENT_FILES },
    (_, i) => path.join(directories[i % directories.length], `${base}-${i}`),
  );
}
