/**
 * Browser side of `bench/opfs.ts --trace`: which OPFS and Web Locks calls
 * one atomic save makes and how long each takes, by wrapping the engine's
 * own methods. The rest of a save's time is this library's JavaScript.
 */

import { writeFile } from "../../mod.ts";

/** One traced call: how often a save makes it, and its mean time. */
export interface TracedCall {
  context: string;
  call: string;
  perSave: number;
  ms: number;
}

const calls = new Map<string, { count: number; ms: number }>();

function record(call: string, start: number): void {
  const entry = calls.get(call) ?? { count: 0, ms: 0 };
  entry.count++;
  entry.ms += performance.now() - start;
  calls.set(call, entry);
}

/** Wraps the async methods `names` of `prototype` with timers. */
function wrap(prototype: object | undefined, type: string, names: string[]) {
  if (!prototype) return;
  const methods = prototype as Record<string, (...args: unknown[]) => unknown>;
  for (const name of names) {
    const original = methods[name];
    if (typeof original !== "function") continue;
    methods[name] = function (this: unknown, ...args: unknown[]) {
      const start = performance.now();
      let label = `${type}.${name}`;
      if (name === "getFileHandle" || name === "getDirectoryHandle") {
        const create = (args[1] as { create?: boolean })?.create;
        label += create ? "(create)" : "";
      }
      if (name === "request") {
        // Time to the grant: the callback runs once the lock is held.
        const callback = args[args.length - 1] as () => unknown;
        args[args.length - 1] = () => {
          record(`${label} (until granted)`, start);
          return callback();
        };
        return original.apply(this, args);
      }
      const result = original.apply(this, args);
      if (!(result instanceof Promise)) {
        record(label, start);
        return result;
      }
      return result.then((value) => {
        record(label, start);
        return value;
      }, (error) => {
        record(`${label}: ${(error as Error).name}`, start);
        throw error;
      });
    };
  }
}

const scope = globalThis as unknown as Record<string, { prototype: object }>;
wrap(scope.FileSystemDirectoryHandle?.prototype, "dir", [
  "getDirectoryHandle",
  "getFileHandle",
  "removeEntry",
]);
wrap(scope.FileSystemFileHandle?.prototype, "file", [
  "getFile",
  "createWritable",
  "createSyncAccessHandle",
  "move",
]);
wrap(scope.FileSystemWritableFileStream?.prototype, "writable", [
  "write",
  "close",
]);
wrap(scope.FileSystemSyncAccessHandle?.prototype, "syncHandle", [
  "write",
  "flush",
  "close",
]);
wrap(scope.LockManager?.prototype, "locks", ["request", "query"]);
wrap(scope.StorageManager?.prototype, "storage", ["getDirectory"]);

/** Traces `saves` 1 KiB saves after a warm-up; reports per save. */
export async function trace(
  context: string,
  saves = 200,
): Promise<TracedCall[]> {
  const opfs = await navigator.storage.getDirectory();
  const dir = await opfs.getDirectoryHandle(`trace-${context}`, {
    create: true,
  });
  const data = new Uint8Array(1024).fill(120);
  for (let i = 0; i < 20; i++) {
    await writeFile("target.bin", data, { root: dir });
  }
  calls.clear();
  const start = performance.now();
  for (let i = 0; i < saves; i++) {
    await writeFile("target.bin", data, { root: dir });
  }
  const total = performance.now() - start;
  const rows = [...calls].map(([call, { count, ms }]) => ({
    context,
    call,
    perSave: count / saves,
    ms: ms / count,
  }));
  const inCalls = rows.reduce((sum, row) => sum + row.perSave * row.ms, 0);
  rows.push({ context, call: "whole save", perSave: 1, ms: total / saves });
  rows.push({
    context,
    call: "sum of the calls above (overlapping ones count twice)",
    perSave: 1,
    ms: inCalls,
  });
  await opfs.removeEntry(`trace-${context}`, { recursive: true });
  return rows;
}
