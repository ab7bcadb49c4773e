/**
 * Every crash state of the real protocol code (see `_crash_model.ts`), for
 * writeFile, append, openAtomic and coalesced writes. After recovery
 * (`cleanupTemps`), the target must hold one whole version, and with
 * `durability: "full"` nothing older than the last acknowledged write.
 * Negative controls: without fsync, without the directory fsync, and in
 * place, the same checks must find violations.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { createAtomicWrite } from "../src/_api.ts";
import type { Durability } from "../src/options.ts";
import {
  crashStates,
  type DiskImage,
  RecordingFileSystem,
} from "./_crash_model.ts";

const DIR = "/data";
const TARGET = `${DIR}/state.json`;
const encoder = new TextEncoder();

/** Version `n`: ~6 KiB (two blocks), distinct, recognisable. */
function version(n: number, size = 6000): Uint8Array {
  const bytes = new Uint8Array(size + n * 100);
  bytes.fill(97 + (n % 26));
  bytes.set(encoder.encode(`version ${n}\n`));
  return bytes;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

type Api = ReturnType<typeof createAtomicWrite>;

interface Scenario {
  name: string;
  /** Contents by version number; version 0 is the initial file. */
  versions: Uint8Array[];
  /** Runs the writes; calls `ack(n)` when the write of version n resolved. */
  run(
    api: Api,
    durability: Durability,
    ack: (n: number) => void,
  ): Promise<void>;
}

const appendParts = [
  version(0),
  encoder.encode("+first"),
  encoder.encode("+second"),
];

const scenarios: Scenario[] = [
  {
    name: "writeFile",
    versions: [0, 1, 2, 3].map((n) => version(n)),
    async run(api, durability, ack) {
      for (const n of [1, 2, 3]) {
        await api.writeFile(TARGET, version(n), { durability });
        ack(n);
      }
    },
  },
  {
    name: "append",
    versions: [
      appendParts[0],
      concat(appendParts[0], appendParts[1]),
      concat(...appendParts),
    ],
    async run(api, durability, ack) {
      for (const n of [1, 2]) {
        await api.writeFile(TARGET, appendParts[n], {
          durability,
          append: true,
        });
        ack(n);
      }
    },
  },
  {
    name: "openAtomic",
    versions: [0, 1, 2].map((n) => version(n)),
    async run(api, durability, ack) {
      for (const n of [1, 2]) {
        await using file = await api.openAtomic(TARGET, { durability });
        const bytes = version(n);
        await file.write(bytes.subarray(0, 3000));
        await file.write(bytes.subarray(3000));
        await file.commit();
        ack(n);
      }
    },
  },
  {
    name: "coalesced writeFile",
    versions: [0, 1, 2, 3, 4].map((n) => version(n)),
    async run(api, durability, ack) {
      const write = (n: number) =>
        api.writeFile(TARGET, version(n), { durability, coalesce: true })
          .then(() => ack(n));
      // Two batches: 1 alone, then 2 to 4 joined into one write of 4.
      const first = write(1);
      await new Promise((resolve) => setTimeout(resolve, 0));
      await Promise.all([first, ...[2, 3, 4].map(write)]);
    },
  },
];

interface Result {
  states: number;
  /** Target missing, torn, empty or zero-filled after recovery. */
  torn: number;
  /** Target older than an acknowledged write. */
  lost: number;
  /** Temp files left after recovery. */
  leftovers: number;
  traceLength: number;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

async function explore(
  scenario: Scenario,
  durability: Durability,
  inPlace = false,
): Promise<Result> {
  const disk = new RecordingFileSystem();
  disk.addDirectory("/");
  disk.addDirectory(DIR);
  disk.addFile(TARGET, scenario.versions[0]);
  disk.inPlace = inPlace;
  const initial: DiskImage = disk.snapshot();
  const api = createAtomicWrite(() => disk.backend());
  await scenario.run(
    api,
    durability,
    (n) => disk.trace.push({ kind: "ack", version: n }),
  );
  // The writes really happened: the live file system holds the newest version.
  const finalVersion = scenario.versions.length - 1;
  assert.ok(equal(disk.read(TARGET)!, scenario.versions[finalVersion]));

  const result: Result = {
    states: 0,
    torn: 0,
    lost: 0,
    leftovers: 0,
    traceLength: disk.trace.length,
  };
  const ackedBefore = (point: number) => {
    let acked = 0;
    for (let i = 0; i < point; i++) {
      const step = disk.trace[i];
      if (step.kind === "ack") acked = Math.max(acked, step.version);
    }
    return acked;
  };
  for (
    const state of crashStates(initial, disk.trace, {
      samples: inPlace || durability === "none" ? 256 : 2048,
    })
  ) {
    result.states++;
    const recovered = new RecordingFileSystem(state.image);
    await createAtomicWrite(() => recovered.backend(true)).cleanupTemps(DIR, {
      olderThan: 0,
    });
    const content = recovered.read(TARGET);
    const found = content === undefined
      ? -1
      : scenario.versions.findIndex((v) => equal(v, content));
    if (found < 0) result.torn++;
    else if (found < ackedBefore(state.point)) result.lost++;
    if (recovered.list(DIR).length !== 1) result.leftovers++;
  }
  return result;
}

const summary: string[] = [];

for (const scenario of scenarios) {
  test(`crash states: ${scenario.name}, durability "full": never torn, nothing acknowledged lost`, async () => {
    const result = await explore(scenario, "full");
    summary.push(`${scenario.name} full: ${JSON.stringify(result)}`);
    console.log(`${scenario.name} "full": ${JSON.stringify(result)}`);
    assert.ok(result.states > 50, `${result.states} states`);
    assert.deepEqual([result.torn, result.lost, result.leftovers], [0, 0, 0]);
  });

  test(`crash states: ${scenario.name}, durability "file": never torn`, async () => {
    const result = await explore(scenario, "file");
    console.log(`${scenario.name} "file": ${JSON.stringify(result)}`);
    assert.deepEqual([result.torn, result.leftovers], [0, 0]);
    // Negative control: without the directory fsync, acknowledged writes
    // can be lost.
    assert.ok(
      result.lost > 0,
      "no directory fsync must lose acknowledged writes",
    );
  });

  test(`crash states: ${scenario.name}, negative control without fsync`, async () => {
    const result = await explore(scenario, "none");
    console.log(`${scenario.name} "none": ${JSON.stringify(result)}`);
    assert.ok(result.torn > 0, "no fsync must leave torn or empty targets");
  });
}

test("crash states: negative control, in-place writes", async () => {
  const result = await explore(scenarios[0], "full", true);
  console.log(`writeFile in place: ${JSON.stringify(result)}`);
  assert.ok(result.torn > 0, "an in-place write must leave torn targets");
});
