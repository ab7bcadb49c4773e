/**
 * A deliberately NON-atomic backend: it writes the target in place (open
 * with truncation, write, no rename), the way a plain `writeFile` does. The
 * negative control runs the atomicity cases against it and expects them to
 * fail, which shows that the suite can catch a broken protocol.
 */

import type { Backend } from "../src/_backend.ts";
import { createNodeBackend, type NodeHandle } from "../src/backends/node.ts";

/** Wraps the node:fs backend so that "temp files" are the target itself. */
export function createInPlaceBackend(): Backend {
  const real = createNodeBackend();
  const targets = new Map<string, string>();
  const base = real.sync!;
  const inPlace = {
    createTemp: (
      path: string,
      options: { target: string; mode: number; copyFrom?: string },
    ) => {
      targets.set(path, options.target);
      const handle = base.createTemp(path, options);
      // Swap the descriptor for one on the target, truncated: in place.
      base.close(handle);
      base.remove(path);
      const fs = (globalThis as unknown as {
        process: { getBuiltinModule(n: string): typeof import("node:fs") };
      }).process.getBuiltinModule("node:fs");
      const fd = fs.openSync(
        options.target,
        options.copyFrom ? "a" : "w",
        options.mode,
      );
      return { fd, path } as NodeHandle;
    },
    rename: (from: string, _to: string) => {
      targets.delete(from);
    },
    remove: (path: string) => {
      if (!targets.delete(path)) base.remove(path);
    },
  };
  const asyncOf = <A extends unknown[], R>(f: (...a: A) => R) => (...a: A) =>
    new Promise<R>((resolve) => setTimeout(() => resolve(f(...a)), 0));
  return {
    name: "in-place",
    capabilities: real.capabilities,
    sync: { ...base, ...inPlace } as Backend["sync"] & object,
    async: {
      ...real.async,
      createTemp: asyncOf(inPlace.createTemp),
      rename: asyncOf(inPlace.rename),
      remove: asyncOf(inPlace.remove),
    } as Backend["async"],
  };
}
