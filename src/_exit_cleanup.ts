/**
 * Removes the temp files of writes still in flight when the process exits
 * (`process.exit()`, `Deno.exit()`, a drained event loop with an uncommitted
 * `openAtomic`, an uncaught exception). The driver tracks every temp file
 * from its creation to its rename or removal; the first one installs the
 * hook. Only passive hooks are used: no signal handler (a SIGINT or SIGTERM
 * handler would stop the default of ending the process) and no handler that
 * keeps a failing process alive.
 *
 * Which hook runs when (measured in Deno 2.9, Bun 1.4, Node 20):
 *
 * - Node, Bun: `process.on("exit")` runs on a normal exit, on
 *   `process.exit()` and on an uncaught exception or rejection that ends the
 *   process.
 * - Deno: the `unload` event runs on a normal exit, `Deno.exit()` and
 *   `process.exit()`, but not when an uncaught exception ends the process:
 *   that one is seen by the `error` or `unhandledrejection` event, as a
 *   not default-prevented event.
 */

/** What removes a temp file: its backend's synchronous primitives. */
export interface Remover {
  remove(path: string): void;
}

/** Temp files on disk, each with the synchronous primitives that made it. */
const temps = new Map<string, Remover>();
let hooked = false;

interface DenoEvents {
  addEventListener(type: string, listener: (event: Event) => void): void;
  removeEventListener(type: string, listener: (event: Event) => void): void;
}

const UNCAUGHT = ["error", "unhandledrejection"];

function denoEvents(): DenoEvents | undefined {
  const global = globalThis as { Deno?: unknown } & Partial<DenoEvents>;
  return typeof global.Deno === "object" &&
      typeof global.addEventListener === "function"
    ? global as DenoEvents
    : undefined;
}

/** Notes a temp file that is (or is about to be) on disk. */
export function trackTemp(path: string, remover: Remover): void {
  if (temps.size === 0) {
    const deno = denoEvents();
    if (deno) {
      // Listeners run in the order they were added: re-adding ours puts it
      // after every listener the application has now, so that a handler that
      // keeps the process alive (`preventDefault()`) has already run.
      for (const type of UNCAUGHT) {
        deno.removeEventListener(type, onUncaught);
        deno.addEventListener(type, onUncaught);
      }
    }
  }
  temps.set(path, remover);
  if (!hooked) hook();
}

/** Notes that a temp file was renamed or removed. */
export function untrackTemp(path: string): void {
  temps.delete(path);
}

/** Unlinks every tracked temp file; errors (already gone) are ignored. */
function removeAll(): void {
  for (const [path, remover] of temps) {
    try {
      remover.remove(path);
    } catch {
      // Nothing more can be done while exiting; cleanupTemps remains.
    }
  }
  temps.clear();
}

function onUncaught(event: Event): void {
  // Prevented: the application handled the error and the process goes on.
  if (!event.defaultPrevented) removeAll();
}

function hook(): void {
  hooked = true;
  const deno = denoEvents();
  if (deno) {
    deno.addEventListener("unload", removeAll);
    return;
  }
  // Reached through globalThis: browser bundles must not import `node:`.
  const process = (globalThis as {
    process?: { on?: (event: "exit", listener: () => void) => void };
  }).process;
  process?.on?.("exit", removeAll);
}
