/**
 * Worker side of `bench/opfs_sync_handle.ts`: is a FileSystemSyncAccessHandle
 * faster than createWritable() for writing a new temp file? Interleaved
 * rounds, medians, ratio sync-handle / writable.
 */

interface SyncHandle {
  write(data: Uint8Array, options?: { at: number }): number;
  flush(): void;
  close(): void;
}

const median = (values: number[]) =>
  values.sort((a, b) => a - b)[values.length >> 1];

const opfs = await navigator.storage.getDirectory();
const dir = await opfs.getDirectoryHandle("bench-sync", { create: true });
const rows: unknown[] = [];
for (
  const [size, bytes, repeat, rounds] of [
    ["1 KiB", 1024, 50, 9],
    ["64 MiB", 64 * 1024 * 1024, 1, 5],
  ] as const
) {
  const data = new Uint8Array(bytes).fill(120);
  const times = { writable: [] as number[], sync: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    let start = performance.now();
    for (let i = 0; i < repeat; i++) {
      const file = await dir.getFileHandle(`w${i}`, { create: true });
      const writable = await file.createWritable();
      await writable.write(data);
      await writable.close();
    }
    times.writable.push((performance.now() - start) / repeat);
    start = performance.now();
    for (let i = 0; i < repeat; i++) {
      const file = await dir.getFileHandle(`s${i}`, { create: true });
      const handle = await (file as unknown as {
        createSyncAccessHandle(): Promise<SyncHandle>;
      }).createSyncAccessHandle();
      let written = 0;
      while (written < data.length) {
        written += handle.write(data.subarray(written), { at: written });
      }
      handle.flush();
      handle.close();
    }
    times.sync.push((performance.now() - start) / repeat);
  }
  const writable = median(times.writable);
  const sync = median(times.sync);
  rows.push({ size, writable, sync, ratio: sync / writable });
}
await opfs.removeEntry("bench-sync", { recursive: true });
postMessage(rows);
