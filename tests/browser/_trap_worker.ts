/** Worker side of `_traps.ts`. */

import { openAtomic, writeTextFile } from "@atomic-write/atomic-write/opfs";
import { versionText } from "./_version_text.ts";

onmessage = async (event) => {
  const { kind, writer } = event.data;
  const opfs = await navigator.storage.getDirectory();
  if (kind === "contend") {
    const dir = await opfs.getDirectoryHandle("trap-contention");
    let failures = 0;
    for (let n = 0; n < 20; n++) {
      await writeTextFile("shared.txt", versionText(writer, n), { root: dir })
        .catch(() => failures++);
    }
    postMessage({ failures });
  } else if (kind === "hold") {
    // A pending openAtomic: its temp file exists until the page says commit.
    const dir = await opfs.getDirectoryHandle("trap-live");
    const file = await openAtomic("target.txt", { root: dir });
    await file.write("from the worker");
    onmessage = async () => {
      try {
        await file.commit();
        postMessage("committed");
      } catch (error) {
        postMessage(`commit failed: ${error}`);
      }
    };
    postMessage("holding");
  } else {
    const dir = await opfs.getDirectoryHandle("trap-terminated");
    // A slow stream: the page terminates this worker after the first chunk.
    await writeTextFile(
      "target.txt",
      (async function* () {
        yield "new, part one";
        postMessage("started");
        await new Promise((resolve) => setTimeout(resolve, 60_000));
        yield "never";
      })(),
      { root: dir },
    );
  }
};
