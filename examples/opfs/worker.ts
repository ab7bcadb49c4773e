/**
 * A dedicated worker that saves one document over and over until the page
 * terminates it ("pull the plug"). `kind: "atomic"` saves through
 * atomic-write with `coalesce: true`; `kind: "plain"` writes the file in
 * place by hand, as OPFS code usually does: a `FileSystemSyncAccessHandle`
 * truncate + write + flush, or where the engine has none (WebKit) a
 * `createWritable()` + write + close.
 */

import { writeFile } from "../../src/opfs.ts";
import { body, header } from "./_content.ts";

/** What the page sends to start a writer. */
export interface StartMessage {
  kind: "atomic" | "plain";
  /** Body size in bytes. */
  size: number;
  /** How the plain writer writes: chunk by chunk or all at once. */
  plain: "stream" | "whole";
  text: string;
}

/** What a writer reports, every 50 ms. */
export interface Stats {
  kind: "atomic" | "plain";
  /** Calls of the save function. */
  calls: number;
  /** Writes of the file that really started. */
  writes: number;
  /** The newest version whose save completed. */
  done: number;
  /** How the plain writer writes, in words. */
  method: string;
}

const DIRECTORY = "crash-demo";

/**
 * The part of `FileSystemSyncAccessHandle` used here (its type is in the
 * `webworker` lib, which cannot be combined with `dom` in one check).
 */
interface SyncAccessHandle {
  truncate(size: number): void;
  write(data: Uint8Array, options: { at: number }): number;
  flush(): void;
  close(): void;
}
type WithSyncAccess = FileSystemFileHandle & {
  createSyncAccessHandle(): Promise<SyncAccessHandle>;
};
let text = "";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A macrotask turn without setTimeout's 4 ms clamp. */
function yieldToEvents(): Promise<unknown> {
  const channel = new MessageChannel();
  const turn = new Promise((resolve) => channel.port1.onmessage = resolve);
  channel.port2.postMessage(undefined);
  return turn;
}

/** The body for the current text, made again only when the text changes. */
let cached:
  | { text: string; size: number; bytes: Uint8Array<ArrayBuffer> }
  | undefined;
function currentBody(size: number): Uint8Array<ArrayBuffer> {
  if (cached?.text !== text || cached.size !== size) {
    cached = { text, size, bytes: body(text, size) };
  }
  return cached.bytes;
}

onmessage = async (event: MessageEvent<StartMessage | { text: string }>) => {
  if (!("kind" in event.data)) {
    text = event.data.text;
    return;
  }
  const { kind, size, plain } = event.data;
  text = event.data.text;
  const opfs = await navigator.storage.getDirectory();
  const dir = await opfs.getDirectoryHandle(DIRECTORY, { create: true });
  const stats: Stats = { kind, calls: 0, writes: 0, done: 0, method: "" };
  setInterval(() => postMessage(stats), 50);
  if (kind === "atomic") await saveAtomically(dir, stats, size);
  else await saveInPlace(dir, stats, size, plain);
};

/**
 * A save call every 2 ms, far more often than a write can finish: with
 * `coalesce: true` the calls that pile up while a write runs become one
 * write of the newest data. The data is a generator, so a write counts only
 * when the library really starts reading it.
 */
async function saveAtomically(
  dir: FileSystemDirectoryHandle,
  stats: Stats,
  size: number,
) {
  stats.method = "writeFile(path, data, { coalesce: true })";
  for (let version = 1;; version++) {
    stats.calls++;
    writeFile("atomic.txt", counted(currentBody(size), version, stats), {
      root: dir,
      coalesce: true,
    }).then(
      () => {
        stats.done = Math.max(stats.done, version);
        postMessage(stats);
      },
      (error) => console.error(error),
    );
    await sleep(2);
  }
}

function* counted(content: Uint8Array, version: number, stats: Stats) {
  stats.writes++;
  yield header(version, content);
  for (let at = 0; at < content.length; at += 65_536) {
    yield content.subarray(at, at + 65_536);
  }
}

/**
 * Back-to-back saves, each one a hand-written write in place. `stream`: the
 * document is written chunk by chunk as a stream delivers it (here a Blob's
 * `stream()`), so a save spans several event-loop tasks; `whole`: one
 * synchronous write. The difference matters in Chromium, whose `terminate()`
 * lets the running task finish (measured: a save within one task never tore
 * there).
 */
async function saveInPlace(
  dir: FileSystemDirectoryHandle,
  stats: Stats,
  size: number,
  plain: "stream" | "whole",
) {
  const file = await dir.getFileHandle("plain.txt", { create: true });
  const access = await syncAccessHandle(dir, file);
  const how = plain === "stream"
    ? "write() of each chunk of the document's stream as it arrives"
    : "one write() of the whole document";
  stats.method = access
    ? `FileSystemSyncAccessHandle: truncate(0), ${how}, flush()`
    : `createWritable({ keepExistingData: false }), ${how}, close() (this ` +
      "engine has no SyncAccessHandle; close() commits the whole file, so " +
      "this cannot tear here)";
  for (let version = 1;; version++) {
    stats.calls++;
    stats.writes++;
    const content = currentBody(size);
    const whole = new Blob([header(version, content), content]);
    const chunks: AsyncIterable<Uint8Array> | Uint8Array[] = plain === "stream"
      ? chunksOf(whole.stream())
      : [new Uint8Array(await whole.arrayBuffer())];
    if (access) {
      access.truncate(0);
      let at = 0;
      for await (const chunk of chunks) at += access.write(chunk, { at });
      access.flush();
    } else {
      const writable = await file.createWritable({ keepExistingData: false });
      // A copy: WebKit writes a view's whole underlying buffer.
      for await (const chunk of chunks) await writable.write(chunk.slice());
      await writable.close();
    }
    stats.done = version;
    postMessage(stats);
    await yieldToEvents(); // lets the page's text updates in
  }
}

/** A stream's chunks (WebKit's ReadableStream is not async iterable). */
async function* chunksOf(stream: ReadableStream<Uint8Array>) {
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    yield value;
  }
}

/**
 * The engine's sync access handle for `file`, or undefined where it has none.
 * Probed on a throwaway file first: WebKit refuses with NotSupportedError and
 * leaves the refused file unwritable. A terminated writer's handle may stay
 * open for a moment, so an open that fails for that is retried.
 */
async function syncAccessHandle(
  dir: FileSystemDirectoryHandle,
  file: FileSystemFileHandle,
): Promise<SyncAccessHandle | undefined> {
  try {
    const probe = await dir.getFileHandle("probe.bin", { create: true });
    await (probe as WithSyncAccess).createSyncAccessHandle().then((h) =>
      h.close()
    );
  } catch {
    return undefined;
  }
  for (let attempt = 0;; attempt++) {
    try {
      return await (file as WithSyncAccess).createSyncAccessHandle();
    } catch (error) {
      if (attempt === 100) throw error;
      await sleep(20);
    }
  }
}
