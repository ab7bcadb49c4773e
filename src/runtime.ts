/**
 * Runtime detection.
 *
 * @module
 */

/**
 * The runtimes this library distinguishes.
 *
 * @example
 * ```ts
 * import { detectRuntime, type Runtime } from "@atomic-write/atomic-write";
 * const runtime: Runtime = detectRuntime();
 * console.assert(runtime !== "unknown");
 * ```
 */
export type Runtime = "deno" | "bun" | "node" | "browser" | "unknown";

/**
 * Detects the JavaScript runtime. Deno is checked before Bun before Node,
 * because Deno and Bun also define `process.versions.node`.
 *
 * @returns The runtime the code runs in.
 *
 * @example
 * ```ts
 * import { detectRuntime } from "@atomic-write/atomic-write";
 * console.assert(detectRuntime() === "deno");
 * ```
 */
export function detectRuntime(): Runtime {
  const global = globalThis as {
    Deno?: { version?: { deno?: unknown } };
    Bun?: { version?: unknown };
    process?: { versions?: { node?: unknown } };
    navigator?: { storage?: { getDirectory?: unknown } };
  };
  if (typeof global.Deno?.version?.deno === "string") return "deno";
  if (typeof global.Bun?.version === "string") return "bun";
  if (typeof global.process?.versions?.node === "string") return "node";
  if (typeof global.navigator?.storage?.getDirectory === "function") {
    return "browser";
  }
  return "unknown";
}
