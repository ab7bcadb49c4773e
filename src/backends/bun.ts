/**
 * The Bun backend: `node:fs` for exclusive create, fsync and rename (Bun's
 * own file API has no flags and never fsyncs), plus `Bun.write` to the open
 * descriptor for Blob and BunFile inputs, which Bun copies in native code.
 */

import type { Backend } from "../_backend.ts";
import { createNodeBackend, type NodeHandle } from "./node.ts";

interface BunGlobal {
  write(destination: Blob, data: Blob): Promise<number>;
  file(fd: number): Blob;
}

/** Bun gives every Blob `stat()`: file stats, or undefined in memory. */
interface BunBlob extends Blob {
  stat?(): Promise<{ size: number } | undefined>;
}

/**
 * Whether `Bun.write` copies exactly this Blob: one in memory, or a file's
 * Blob that covers the whole file. Bun 1.4 copies a file's Blob whole,
 * ignoring a slice (oven-sh/bun#41209); slices are clamped, so one as large
 * as its file starts at 0. In doubt, no: the Blob is then streamed.
 */
async function copiesExactly(blob: BunBlob): Promise<boolean> {
  if (typeof blob.stat !== "function") return false;
  try {
    const stats = await blob.stat();
    return stats === undefined || stats.size === blob.size;
  } catch {
    return false;
  }
}

/** Creates the Bun backend; throws outside Bun. */
export function createBunBackend(): Backend<NodeHandle> {
  const bun = (globalThis as { Bun?: BunGlobal }).Bun;
  if (!bun) throw new Error("The bun backend needs the Bun runtime");
  return {
    ...createNodeBackend(),
    name: "bun",
    // Only into a fresh temp file (see `BlobWriter`): Bun preallocates and
    // truncates from offset 0. Writes at the descriptor's position and
    // leaves it open for the fsync.
    writeBlob: async (handle, blob) =>
      await copiesExactly(blob)
        ? await bun.write(bun.file(handle.fd), blob)
        : undefined,
  };
}
