/**
 * Browser side of `bench/opfs.ts --calls`: what each OPFS and Web Locks call
 * that an atomic save can make costs on its own, so that a ratio can be
 * explained. Each call is repeated in a block and the block's time divided
 * (timers are coarse: 0.1 ms in Chromium, 1 ms in Firefox and WebKit);
 * blocks repeat over rounds and the medians are reported.
 */

/** One call's median cost in milliseconds. */
export interface CallCost {
  context: string;
  call: string;
  ms: number;
}

interface SyncHandle {
  write(data: Uint8Array, options: { at: number }): number;
  flush(): void;
  close(): void;
}

type MovableFile = FileSystemFileHandle & {
  createSyncAccessHandle(): Promise<SyncHandle>;
  move(directory: FileSystemDirectoryHandle, name: string): Promise<void>;
};

const median = (values: number[]) =>
  values.sort((a, b) => a - b)[values.length >> 1];

const swallow = () => {};

/** Whether this context can open sync access handles (not WebKit). */
async function syncHandles(dir: FileSystemDirectoryHandle): Promise<boolean> {
  if ("document" in globalThis) return false;
  const probe = await dir.getFileHandle("probe", { create: true });
  try {
    (await (probe as MovableFile).createSyncAccessHandle()).close();
    return true;
  } catch {
    return false;
  } finally {
    await dir.removeEntry("probe");
  }
}

/** Measures every call in this context, 1 KiB and 64 MiB. */
export async function measureCalls(
  context: string,
  rounds = 3,
): Promise<CallCost[]> {
  const opfs = await navigator.storage.getDirectory();
  const dir = await opfs.getDirectoryHandle(`calls-${context}`, {
    create: true,
  });
  await dir.getDirectoryHandle("sub", { create: true });
  const sync = await syncHandles(dir);
  const times = new Map<string, number[]>();
  let fresh = 0;
  for (
    const [size, bytes, count] of [
      ["1 KiB", 1024, 40],
      ["64 MiB", 64 * 1024 * 1024, 2],
    ] as const
  ) {
    const data = new Uint8Array(bytes).fill(120);
    {
      const file = await dir.getFileHandle("target.bin", { create: true });
      const writable = await file.createWritable();
      await writable.write(data);
      await writable.close();
    }
    /** Times `count` calls of `fn` as one block. */
    const time = async (call: string, fn: (i: number) => Promise<unknown>) => {
      const start = performance.now();
      for (let i = 0; i < count; i++) await fn(i);
      const key = `${call}, ${size}`;
      const each = (performance.now() - start) / count;
      times.set(key, [...times.get(key) ?? [], each]);
    };
    const small = bytes <= 1024;
    for (let round = 0; round < rounds; round++) {
      // A move replaces the entry: Firefox's old handle would name none.
      const target = await dir.getFileHandle("target.bin");
      if (small) {
        await time("getDirectory()", () => navigator.storage.getDirectory());
        await time(
          "getDirectoryHandle(existing)",
          () => dir.getDirectoryHandle("sub"),
        );
        await time(
          "getFileHandle(existing)",
          () => dir.getFileHandle("target.bin"),
        );
        await time(
          "getFileHandle(missing): NotFoundError",
          () => dir.getFileHandle("missing").catch(swallow),
        );
        await time(
          "getDirectoryHandle(a file): TypeMismatchError",
          () => dir.getDirectoryHandle("target.bin").catch(swallow),
        );
        await time("getFile()", () => target.getFile());
        await time(
          "locks.request (free, released at once)",
          (i) => navigator.locks.request(`bench-${i}`, async () => {}),
        );
        await time(
          "2 locks.request at once (free, released at once)",
          (i) =>
            Promise.all([
              navigator.locks.request(`bench-a${i}`, async () => {}),
              navigator.locks.request(`bench-b${i}`, async () => {}),
            ]),
        );
        await time("locks.query()", () => navigator.locks.query());
      }
      await time("plain save: createWritable + write + close", async () => {
        const writable = await target.createWritable();
        await writable.write(data);
        await writable.close();
      });
      // A fresh temp file per call, as a save makes, moved onto the target.
      const files: MovableFile[] = [];
      const base = fresh;
      fresh += count;
      await time("getFileHandle(new, create)", async (i) => {
        const name = `t${base + i}`;
        files.push(await dir.getFileHandle(name, { create: true }) as never);
      });
      if (sync) {
        await time(
          "createSyncAccessHandle + write + flush + close (new file)",
          async (i) => {
            const handle = await files[i].createSyncAccessHandle();
            for (let at = 0; at < data.length;) {
              at += handle.write(data.subarray(at), { at });
            }
            handle.flush();
            handle.close();
          },
        );
      } else {
        await time("createWritable + write + close (new file)", async (i) => {
          const writable = await files[i].createWritable();
          await writable.write(data);
          await writable.close();
        });
      }
      await time(
        "move(dir, name) onto the target",
        (i) => files[i].move(dir, "target.bin"),
      );
      if (!small) continue;
      await time(
        "locks.request, then getFileHandle(new, create)",
        (i) =>
          navigator.locks.request(
            `bench-c${i}`,
            () => dir.getFileHandle(`l${base + i}`, { create: true }),
          ),
      );
      await time(
        "locks.request and getFileHandle(new, create) at once",
        (i) =>
          Promise.all([
            navigator.locks.request(`bench-d${i}`, async () => {}),
            dir.getFileHandle(`m${base + i}`, { create: true }),
          ]),
      );
      await time("getFileHandle(new, create) + removeEntry", async (i) => {
        await dir.getFileHandle(`r${base + i}`, { create: true });
        await dir.removeEntry(`r${base + i}`);
      });
    }
  }
  await opfs.removeEntry(`calls-${context}`, { recursive: true });
  return [...times].map(([call, values]) => ({
    context,
    call,
    ms: median(values),
  }));
}
