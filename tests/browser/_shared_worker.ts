/** Shared worker side of `_traps.ts`: the root entry writes to OPFS here too. */

import { detectRuntime, writeTextFile } from "@atomic-write/atomic-write";

(globalThis as unknown as { onconnect: (event: MessageEvent) => void })
  .onconnect = async (event) => {
    const port = event.ports[0];
    try {
      const opfs = await navigator.storage.getDirectory();
      const dir = await opfs.getDirectoryHandle("trap-shared", {
        create: true,
      });
      await writeTextFile("target.txt", "from a shared worker", { root: dir });
      const text =
        await (await (await dir.getFileHandle("target.txt")).getFile())
          .text();
      port.postMessage(`${detectRuntime()}: ${text}`);
    } catch (error) {
      port.postMessage(`error: ${error}`);
    }
  };
