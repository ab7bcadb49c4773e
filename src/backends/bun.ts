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

/** Creates the Bun backend; throws outside Bun. */
export function createBunBackend(): Backend<NodeHandle> {
  const bun = (globalThis as { Bun?: BunGlobal }).Bun;
  if (!bun) throw new Error("The bun backend needs the Bun runtime");
  return {
    ...createNodeBackend(),
    name: "bun",
    // Writes at the descriptor's position and leaves it open for the fsync.
    writeBlob: (handle, blob) => bun.write(bun.file(handle.fd), blob),
  };
}
