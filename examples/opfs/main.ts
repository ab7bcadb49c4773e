/**
 * The notes editor: loads `notes.md` from OPFS, saves it on every keystroke.
 * `coalesce` collapses a burst of keystrokes into few writes, and each save
 * replaces the file atomically (temp file + move()).
 */

import { AtomicWriteError, writeTextFile } from "../../mod.ts";

const FILE = "notes.md";
const notes = document.querySelector<HTMLTextAreaElement>("#notes")!;
const status = document.querySelector<HTMLParagraphElement>("#status")!;

async function load(): Promise<string> {
  const root = await navigator.storage.getDirectory();
  try {
    return await (await (await root.getFileHandle(FILE)).getFile()).text();
  } catch {
    return "";
  }
}

let saves = 0;
notes.addEventListener("input", async () => {
  const text = notes.value;
  status.textContent = "Saving…";
  try {
    await writeTextFile(FILE, text, { coalesce: true });
    saves++;
    status.textContent = `Saved ${text.length} characters (${saves} saves).`;
  } catch (error) {
    status.textContent = error instanceof AtomicWriteError
      ? `Not saved: ${error.step} failed (${error.code}). The previous version is kept.`
      : `Not saved: ${error}`;
  }
});

notes.value = await load();
status.textContent = notes.value ? "Loaded." : "New notes.";
document.body.dataset.ready = "true";
