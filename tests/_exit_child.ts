/**
 * Child process for the exit cleanup tests. In DIR, whose files stream.txt,
 * pending.txt and sync.txt hold "old", it leaves two writes in flight with
 * their temp files on disk: a `writeFile` from a slow stream (some chunks
 * written, the next one never comes) and an `openAtomic` with bytes written
 * and no commit. Then it prints "temps N" and ends as HOW says:
 *
 * - `process-exit` / `deno-exit`: from inside a third, synchronous write
 *   (`writeFileSync` whose iterable calls `process.exit(0)` / `Deno.exit(0)`
 *   after its first chunk);
 * - `drain`: nothing more; the event loop empties and the process ends;
 * - `throw`: an uncaught exception (from a timer);
 * - `reject`: the module's top level throws (an unhandled rejection in Deno);
 * - `wait`: stays alive (a timer) until a signal ends it; with
 *   `wait-handled` the application's SIGINT and SIGTERM handlers exit(0).
 * - `handled-throw`: as `throw`, but the application's handler (registered
 *   after a first write to sync.txt, before the writes in flight started)
 *   keeps the process alive; the writes are then finished and must succeed
 *   ("done" is printed).
 *
 *   _exit_child.ts BACKEND DIR HOW
 */

import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import { childSubject } from "./_child_backend.ts";
import { leftoverTemps } from "./_helpers.ts";

const [name, dir, how] = process.argv.slice(2);
const { api } = childSubject(name);
const CHUNK = new Uint8Array(256 * 1024).fill(0x6e); // "n"

let handledError: (() => void) | undefined;
const handled = new Promise<void>((resolve) => handledError = resolve);
if (how === "handled-throw") {
  // A write made before the handler exists must not put the library's own
  // listener ahead of it (Deno runs listeners in the order they were added).
  await api.writeFile(path.join(dir, "sync.txt"), "warm-up");
  if (typeof Deno === "object") {
    globalThis.addEventListener("error", (event) => {
      event.preventDefault();
      handledError!();
    });
  } else {
    process.on("uncaughtException", () => handledError!());
  }
}

if (how === "wait-handled") {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const handler = () => {
      fs.writeSync(1, `handled ${signal}\n`);
      if (typeof Deno === "object") Deno.exit(0);
      else process.exit(0);
    };
    if (typeof Deno === "object") Deno.addSignalListener(signal, handler);
    else process.on(signal, handler);
  }
}

/** Four chunks, then waits for `finish` (never called unless handled). */
let pulls = 0;
let finish: (() => void) | undefined;
const finished = new Promise<void>((resolve) => finish = resolve);
const slow = new ReadableStream<Uint8Array>({
  async pull(controller) {
    if (++pulls <= 4) {
      controller.enqueue(CHUNK);
      return;
    }
    await finished;
    controller.close();
  },
});
const streamWrite = api.writeFile(path.join(dir, "stream.txt"), slow);

// The stream write is in flight once its fifth chunk is awaited.
while (pulls <= 4) await new Promise((resolve) => setTimeout(resolve, 5));

const pending = await api.openAtomic(path.join(dir, "pending.txt"));
await pending.write(CHUNK);

fs.writeSync(1, `temps ${leftoverTemps(dir).length}\n`);

function* exitAfterFirstChunk(exit: () => void) {
  yield "first chunk";
  exit();
  yield "never";
}

switch (how) {
  case "process-exit":
    api.writeFileSync(
      path.join(dir, "sync.txt"),
      exitAfterFirstChunk(() => process.exit(0)),
    );
    break;
  case "deno-exit":
    api.writeFileSync(
      path.join(dir, "sync.txt"),
      exitAfterFirstChunk(() => Deno.exit(0)),
    );
    break;
  case "drain":
    break;
  case "wait":
  case "wait-handled":
    setInterval(() => {}, 1000);
    break;
  case "throw":
    setTimeout(() => {
      throw new Error("application failure");
    }, 0);
    break;
  case "reject":
    throw new Error("application failure");
  case "handled-throw":
    setTimeout(() => {
      throw new Error("application failure");
    }, 0);
    await handled;
    finish!();
    await streamWrite;
    await pending.commit();
    fs.writeSync(1, "done\n");
    break;
  default:
    throw new Error(`unknown HOW: ${how}`);
}
