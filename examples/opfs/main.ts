/**
 * The crash demo page: two dedicated workers save a document each, over and
 * over (one through atomic-write, one written in place by hand); "Pull the
 * plug" terminates both in the middle of a save, and after a reload the page
 * checks what each file holds. On load `cleanupTemps` sweeps the temp file a
 * killed atomic writer leaves. A third part appends lines to one shared
 * document from every open tab through `updateTextFile`, ordered by a Web
 * Lock.
 *
 * `?trials=N` runs N kill trials without reloading (start, wait a random
 * moment, terminate, check) and POSTs the verdicts to `/results`: that is
 * how the tests drive it in every engine, WebKit's MiniBrowser included.
 */

import { cleanupTemps, updateTextFile } from "../../src/opfs.ts";
import { describe, type Verdict, verdict } from "./_content.ts";
import type { StartMessage, Stats } from "./worker.ts";

const params = new URL(location.href).searchParams;
const SIZE = Number(params.get("size") ?? 1 << 20);
const PLAIN = params.get("plain") === "whole" ? "whole" : "stream";
const opfs = await navigator.storage.getDirectory();
const dir = await opfs.getDirectoryHandle("crash-demo", { create: true });

const $ = <T extends HTMLElement>(id: string) =>
  document.getElementById(id) as T;
const editor = $<HTMLTextAreaElement>("text");
const startButton = $<HTMLButtonElement>("start");
const plugButton = $<HTMLButtonElement>("plug");
const reloadButton = $<HTMLButtonElement>("reload");
const status = $("status");

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Removes the temp files of writers that are gone; says what went. */
async function sweep(): Promise<string[]> {
  // A terminated worker's Web Lock is released soon, not at once, and until
  // then its temp file counts as live: poll briefly.
  const removed: string[] = [];
  for (let attempt = 0; attempt < 40; attempt++) {
    removed.push(...await cleanupTemps("/", { root: dir }));
    const left = (await names()).filter((n) => n.endsWith(".atomic-tmp"));
    if (left.length === 0) break;
    await sleep(50);
  }
  $("cleanup").textContent = removed.length === 0
    ? "cleanupTemps removed nothing: no temp file was left behind."
    : `cleanupTemps removed ${removed.length} temp file${
      removed.length === 1 ? "" : "s"
    } that a killed atomic writer left behind: ${removed.join(", ")}. ` +
      "The target was never touched by it.";
  return removed;
}

async function names(): Promise<string[]> {
  const result: string[] = [];
  const entries = dir as FileSystemDirectoryHandle & {
    keys(): AsyncIterable<string>;
  };
  for await (const name of entries.keys()) result.push(name);
  return result;
}

/** A file's bytes; a killed writer's handle may block reads for a moment. */
async function read(name: string): Promise<Uint8Array | undefined> {
  for (let attempt = 0;; attempt++) {
    try {
      const file = await (await dir.getFileHandle(name)).getFile();
      return new Uint8Array(await file.arrayBuffer());
    } catch (error) {
      if ((error as DOMException).name === "NotFoundError") return undefined;
      if (attempt === 100) throw error;
      await sleep(20);
    }
  }
}

/** Reads both files and shows their verdicts. */
async function check(): Promise<Record<"atomic" | "plain", Verdict>> {
  const result = {
    atomic: verdict(await read("atomic.txt")),
    plain: verdict(await read("plain.txt")),
  };
  for (const kind of ["atomic", "plain"] as const) {
    const v = result[kind];
    const out = $(`${kind}-verdict`);
    out.textContent = describe(v);
    out.dataset.kind = v.kind;
  }
  const plain = result.plain.kind;
  $("plain-note").textContent = plain === "torn" || plain === "empty"
    ? "The plug was pulled while this file was being written in place: it " +
      "now holds neither the old version nor the new one."
    : plain === "whole"
    ? "Whole this time: the kill did not land inside an in-place write " +
      "(or this engine commits writes on close, see the method above)."
    : "";
  return result;
}

// The writers.
let workers: Worker[] = [];
// A terminated worker's last messages may still arrive: they are ignored.
let generation = 0;
const latest: Partial<Record<"atomic" | "plain", Stats>> = {};

function start() {
  stop();
  const current = ++generation;
  for (const kind of ["atomic", "plain"] as const) {
    // The counters shown since a reload are the previous run's.
    show({ kind, calls: 0, writes: 0, done: 0, method: "" });
    const worker = new Worker("/worker.js", { type: "module" });
    worker.onmessage = (event: MessageEvent<Stats>) => {
      if (current === generation) show(event.data);
    };
    const message: StartMessage = {
      kind,
      size: SIZE,
      plain: PLAIN,
      text: editor.value,
    };
    worker.postMessage(message);
    workers.push(worker);
  }
  startButton.disabled = true;
  plugButton.disabled = false;
  status.textContent = "Saving continuously. Type in the text box, then " +
    "pull the plug.";
}

function show(stats: Stats) {
  latest[stats.kind] = stats;
  $(`${stats.kind}-calls`).textContent = String(stats.calls);
  $(`${stats.kind}-writes`).textContent = String(stats.writes);
  $(`${stats.kind}-done`).textContent = String(stats.done);
  if (stats.method) $(`${stats.kind}-method`).textContent = stats.method;
}

/** Terminates both writers wherever they are: mid-save, most likely. */
function stop(): boolean {
  if (workers.length === 0) return false;
  for (const worker of workers) worker.terminate();
  workers = [];
  generation++;
  return true;
}

editor.addEventListener("input", () => {
  for (const worker of workers) worker.postMessage({ text: editor.value });
});
startButton.addEventListener("click", start);
plugButton.addEventListener("click", () => {
  if (!stop()) return;
  plugButton.disabled = true;
  startButton.disabled = false;
  const done = (kind: "atomic" | "plain") => latest[kind]?.done ?? 0;
  status.textContent = `Plug pulled: both workers terminated. The atomic ` +
    `writer had finished version ${done("atomic")}, the plain one version ` +
    `${done("plain")}, and each was most likely in the middle of the next. ` +
    "Reload to see what the files hold.";
  // The counters survive the reload, so that they can be read beside what
  // the files hold.
  sessionStorage.setItem("pulled", JSON.stringify(latest));
  reloadButton.focus();
});
reloadButton.addEventListener("click", () => location.reload());

// Two tabs, one document: each append waits for the file's Web Lock.
const tab = Math.random().toString(36).slice(2, 6).toUpperCase();
$("tab").textContent = tab;
const appendButton = $<HTMLButtonElement>("append");
appendButton.addEventListener("click", async () => {
  appendButton.disabled = true;
  const log = $("lock-log");
  log.textContent = "";
  let waited = 0;
  for (let n = 1; n <= 10; n++) {
    const asked = performance.now();
    let wait = 0;
    await updateTextFile("shared.txt", async (old) => {
      wait = performance.now() - asked;
      await sleep(30); // holds the lock a moment, so another tab must queue
      return `${old ?? ""}tab ${tab} line ${n}\n`;
    }, { root: dir });
    if (wait > 5) waited++;
    log.textContent += `line ${n}: got the lock after ${wait.toFixed(0)} ms\n`;
  }
  log.textContent += `${waited} of 10 appends waited for another holder.\n`;
  await showShared();
  appendButton.disabled = false;
  document.body.dataset.appended = String(
    Number(document.body.dataset.appended ?? 0) + 1,
  );
});
$("clear-shared").addEventListener("click", async () => {
  await updateTextFile("shared.txt", () => "", { root: dir });
  await showShared();
});

async function showShared() {
  const bytes = await read("shared.txt");
  const text = bytes ? new TextDecoder().decode(bytes) : "";
  const lines = text.split("\n").filter(Boolean);
  const tabs = new Map<string, number>();
  for (const line of lines) {
    const id = line.split(" ")[1];
    tabs.set(id, (tabs.get(id) ?? 0) + 1);
  }
  $("shared").textContent = text || "(empty)";
  $("shared-summary").textContent = `${lines.length} lines: ` +
    ([...tabs].map(([id, n]) => `${n} from tab ${id}`).join(", ") ||
      "none yet");
}

async function trials(count: number) {
  const results = [];
  for (let trial = 1; trial <= count; trial++) {
    status.textContent = `Trial ${trial} of ${count}…`;
    start();
    // Both writers first finish a save, so that an old version exists.
    while (!((latest.atomic?.done ?? 0) > 0 && (latest.plain?.done ?? 0) > 0)) {
      await sleep(10);
    }
    await sleep(20 + Math.random() * 200);
    stop();
    const stats = { atomic: latest.atomic, plain: latest.plain };
    delete latest.atomic;
    delete latest.plain;
    const removed = await sweep();
    results.push({ ...await check(), removed: removed.length, stats });
  }
  await fetch("/results", { method: "POST", body: JSON.stringify(results) });
  status.textContent = `${count} trials done.`;
}

await sweep();
await check();
await showShared();
setInterval(showShared, 500); // another tab may be appending
const pulled = sessionStorage.getItem("pulled");
sessionStorage.removeItem("pulled");
if (pulled) {
  const before = JSON.parse(pulled) as typeof latest;
  for (const stats of Object.values(before)) show(stats);
  status.textContent = "Reloaded after the plug was pulled; the counters " +
    "are those at the moment of the kill. Start saving again to repeat.";
} else {
  status.textContent = "Ready. Start saving, then pull the plug.";
}
document.body.dataset.ready = "true";
const trialCount = Number(params.get("trials") ?? 0);
if (trialCount > 0) await trials(trialCount);
