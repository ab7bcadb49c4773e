/**
 * Browser side of the OPFS benchmark: an atomic write (this library) against
 * a plain `createWritable()` + write + close of the same bytes to the same
 * file, in interleaved rounds (which contender goes first alternates),
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

/** What a user writes without this library: replaced whole on close(). */
async function plainWrite(dir: FileSystemDirectoryHandle, data: Uint8Array) {
  const file = await dir.getFileHandle("target.bin", { create: true });
  const writable = await file.createWritable();
  await writable.write(data as Uint8Array<ArrayBuffer>);
  await writable.close();
}

const median = (values: number[]) =>
  values.sort((a, b) => a - b)[values.length >> 1];

/** Measures 1 KiB and 64 MiB replaces; `quick`: fewer rounds. */
export async function measure(
  context: string,
  quick = false,
): Promise<Measurement[]> {
  const opfs = await navigator.storage.getDirectory();
  const dir = await opfs.getDirectoryHandle(`bench-${context}`, {
    create: true,
  });
  const results: Measurement[] = [];
  for (
    const [size, bytes, repeat, rounds] of [
      ["1 KiB", 1024, quick ? 20 : 50, quick ? 5 : 11],
      ["64 MiB", 64 * 1024 * 1024, 1, quick ? 3 : 7],
    ] as const
  ) {
    const data = new Uint8Array(bytes).fill(120);
    const contenders = {
      plain: () => plainWrite(dir, data),
      atomic: () => writeFile("target.bin", data, { root: dir }),
    };
    const times = { plain: [] as number[], atomic: [] as number[] };
    // One untimed write of each: the file exists at its size from the start.
    for (const write of Object.values(contenders)) await write();
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0
        ? ["plain", "atomic"] as const
        : ["atomic", "plain"] as const;
      for (const name of order) {
        const start = performance.now();
        for (let i = 0; i < repeat; i++) await contenders[name]();
        times[name].push((performance.now() - start) / repeat);
      }
    }
    const plain = median(times.plain);
    const atomic = median(times.atomic);
    results.push({ context, size, plain, atomic, ratio: atomic / plain });
  }
  await opfs.removeEntry(`bench-${context}`, { recursive: true });
  return results;
}
