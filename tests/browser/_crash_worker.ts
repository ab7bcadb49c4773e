/**
 * Worker side of `_crash.ts`: saves whole versions of `looped-worker.txt` in
 * the crash directory in a loop (through `createWritable()` on the file, or a
 * temp file written by a sync access handle, as the backend chooses in a
 * worker), and says "saved" after the third.
 */

import { writeTextFile } from "@atomic-write/atomic-write/opfs";
import { loopedVersion } from "./_version_text.ts";

onmessage = async () => {
  try {
    const opfs = await navigator.storage.getDirectory();
    const dir = await opfs.getDirectoryHandle("crash");
    for (let n = 1;; n++) {
      await writeTextFile("looped-worker.txt", loopedVersion(n), { root: dir });
      if (n === 3) postMessage("saved");
    }
  } catch (error) {
    postMessage(`failed: ${error}`);
  }
};
