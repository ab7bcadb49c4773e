/**
 * The lock of `updateFile` and `lockFile` in OPFS: a Web Lock per path,
 * shared by the tabs and workers of the origin, which a context that dies
 * drops. Its name differs from the writes' own Web Lock (`backends/opfs.ts`),
 * which the update's write takes while this one is held.
 */

import {
  type HeldLock,
  isMissing,
  type Locking,
  type LockRequest,
  timedOut,
} from "./_lock_wait.ts";

interface OpfsDirectory {
  getDirectoryHandle(name: string): Promise<OpfsDirectory>;
  getFileHandle(name: string): Promise<{ getFile(): Promise<Blob> }>;
}

async function readOpfs(
  path: string,
  root: unknown,
): Promise<Uint8Array | undefined> {
  let directory = (root ??
    await (globalThis as unknown as {
      navigator: { storage: { getDirectory(): Promise<unknown> } };
    }).navigator.storage.getDirectory()) as OpfsDirectory;
  const names = path.split("/").filter((name) => name !== "" && name !== ".");
  const last = names.pop() ?? "";
  try {
    for (const name of names) {
      directory = await directory.getDirectoryHandle(name);
    }
    const file = await (await directory.getFileHandle(last)).getFile();
    return new Uint8Array(await file.arrayBuffer());
  } catch (error) {
    if (isMissing(error) || (error as Error).name === "TypeMismatchError") {
      return undefined;
    }
    throw error;
  }
}

interface WebLocks {
  request(
    name: string,
    options: { signal?: AbortSignal },
    callback: () => Promise<void>,
  ): Promise<void>;
}

/** The Web Lock of `target` (distinct from the writes' own lock). */
function webLock(target: string, request: LockRequest): Promise<HeldLock> {
  request.signal?.throwIfAborted();
  const deadline = Date.now() + request.timeout;
  const locks = (globalThis as { navigator?: { locks?: WebLocks } }).navigator
    ?.locks;
  if (!locks) {
    throw new TypeError("Locked updates in OPFS need Web Locks");
  }
  const giveUp = new AbortController();
  const timer = Number.isFinite(deadline)
    ? setTimeout(
      () => giveUp.abort(timedOut(request.path, request.timeout, "a context")),
      Math.max(0, deadline - Date.now()),
    )
    : undefined;
  const onAbort = () => giveUp.abort(request.signal!.reason);
  request.signal?.addEventListener("abort", onAbort, { once: true });
  const stop = () => {
    clearTimeout(timer);
    request.signal?.removeEventListener("abort", onAbort);
  };
  const name = `atomic-write-update:${target.replace(/^\/+/, "")}`;
  return new Promise<HeldLock>((granted, failed) => {
    locks.request(name, { signal: giveUp.signal }, () => {
      stop();
      return new Promise<void>((release) =>
        granted({ release: () => Promise.resolve(release()) })
      );
    }).catch((error) => {
      stop();
      failed(giveUp.signal.aborted ? giveUp.signal.reason : error);
    });
  });
}

/** Web Locks, and reads through the OPFS handles. */
export const webLocking: Locking = {
  acquire: webLock,
  read: (path, request) => readOpfs(path, request.root),
};
