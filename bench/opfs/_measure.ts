/**
 * Browser side of the OPFS benchmark: an atomic write (this library) against
 * a plain `createWritable()` write of the same bytes, interleaved rounds,
 * medians and the ratio. Runs in the page and in a dedicated worker.
 */

import { writeFile } from "../../mod.ts";

/** One size's medians in milliseconds and the ratio atomic / plain. */
export interface Measurement {
  context: string;
  size: string;
  plain: number;
  atomic: number;
  ratio: number;
}

async function plainWrite(dir: FileSystemDirectoryHandle, data: Uint8Array) {
  const file = await dir.getFileHandle("plain.bin", { create: true });
  const writable = await file.createWritable();
  await writable.write(data as Uint8Array<ArrayBuffer>);
  await writable.close();
}

const median = (values: number[]) =>
  values.sort((a, b) => a - b)[values.length >> 1];

/** Measures 1 KiB and 64 MiB replaces. */
export async function measure(context: string): Promise<Measurement[]> {
  const opfs = await navigator.storage.getDirectory();
  const dir = await opfs.getDirectoryHandle(`bench-${context}`, {
    create: true,
  });
  const results: Measurement[] = [];
  for (
    const [size, bytes, repeat, rounds] of [
      ["1 KiB", 1024, 50, 9],
      ["64 MiB", 64 * 1024 * 1024, 1, 5],
    ] as const
  ) {
    const data = new Uint8Array(bytes).fill(120);
    const times = { plain: [] as number[], atomic: [] as number[] };
    for (let round = 0; round < rounds; round++) {
      let start = performance.now();
      for (let i = 0; i < repeat; i++) await plainWrite(dir, data);
      times.plain.push((performance.now() - start) / repeat);
      start = performance.now();
      for (let i = 0; i < repeat; i++) {
        await writeFile("atomic.bin", data, { root: dir });
      }
      times.atomic.push((performance.now() - start) / repeat);
    }
    const plain = median(times.plain);
    const atomic = median(times.atomic);
    results.push({ context, size, plain, atomic, ratio: atomic / plain });
  }
  await opfs.removeEntry(`bench-${context}`, { recursive: true });
  return results;
}
