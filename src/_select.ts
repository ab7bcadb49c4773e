/** Backend selection by runtime, shared by `auto.ts` and the tests. */

import type { Backend } from "./_backend.ts";
import { createBunBackend } from "./backends/bun.ts";
import { createDenoBackend } from "./backends/deno.ts";
import { createNodeBackend } from "./backends/node.ts";
import { createOpfsBackend } from "./backends/opfs.ts";
import type { Runtime } from "./runtime.ts";

/** The backend of a runtime this library supports. */
export function createBackendFor(runtime: Runtime): Backend {
  switch (runtime) {
    case "deno":
      return createDenoBackend() as Backend;
    case "bun":
      return createBunBackend() as Backend;
    case "node":
      return createNodeBackend() as Backend;
    case "browser":
      return createOpfsBackend() as Backend;
    default:
      throw new Error(
        `atomic-write has no backend for this runtime (${runtime}): it supports Deno, Bun, Node and browsers with OPFS`,
      );
  }
}
