/**
 * Whether a target is a mount point (a bind-mounted file, as Docker,
 * Flatpak and Kubernetes ConfigMaps make), for the file system backends'
 * `isMountPoint`. A file bind-mounted from the same file system has its
 * directory's st_dev, so `/proc/self/mountinfo` (Linux) is what tells; a
 * different st_dev proves it too, where `/proc` cannot be read.
 */

import { splitPath } from "./_path.ts";

/** Bytes copied at a time into a mount point (`copyInPlace`). */
export const COPY_CHUNK = 256 * 1024;

/** What `isMountPoint` needs from a runtime; each may throw. */
export interface MountPointReader {
  /** The st_dev of a path (links followed). */
  device(path: string): number;
  /** The text of `/proc/self/mountinfo`. */
  mountInfo(): string;
}

/** Whether the canonical `path` is a mount point. False when unsure. */
export function isMountPoint(path: string, reader: MountPointReader): boolean {
  try {
    const { directory } = splitPath(path);
    if (reader.device(path) !== reader.device(directory)) return true;
  } catch {
    // Not provable this way: ask the mount table.
  }
  try {
    return listsMountPoint(reader.mountInfo(), path);
  } catch {
    return false;
  }
}

/** Whether a `/proc/self/mountinfo` text lists `path` as a mount point. */
export function listsMountPoint(mountInfo: string, path: string): boolean {
  for (const line of mountInfo.split("\n")) {
    // Field 5 is the mount point, with space, tab, newline and backslash
    // written as octal escapes.
    const field = line.split(" ")[4];
    if (
      field !== undefined &&
      field.replace(
          /\\([0-7]{3})/g,
          (_, octal) => String.fromCharCode(parseInt(octal, 8)),
        ) === path
    ) {
      return true;
    }
  }
  return false;
}
