/**
 * Group commit of directory fsyncs (`src/_group_commit.ts`): concurrent
 * durable writes into one directory share fsyncs, and still every write's
 * promise resolves only after a directory fsync that started after its own
 * rename.
 *
 * Proven on every crash state of the real code (`_crash_model.ts`, whose
 * fsyncs cover only what happened before they were called): after any
 * crash, each file whose write was acknowledged holds that write. The
 * negative control swaps in the classic mistake, joining an fsync that is
 * already running, and the same check must find lost writes. On real disks
 * the power-cut suite (`power_cut_test.ts`, "concurrent") cuts power under
 * concurrent writers.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { createAtomicWrite } from "../src/_api.ts";
import { directorySyncs } from "../src/_group_commit.ts";
import {
  crashStates,
  type DiskImage,
  RecordingFileSystem,
} from "./_crash_model.ts";

const DIR = "/data";
const FILES = 5;
const target = (i: number) => `${DIR}/file-${i}`;

function content(i: number, version: number): Uint8Array {
  return new TextEncoder().encode(`file ${i} version ${version}\n`);
}

function equal(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && a.length === b.length &&
    a.every((byte, i) => byte === b[i]);
}

interface Outcome {
  states: number;
  lost: number;
  torn: number;
  directoryFsyncs: number;
}

/**
 * FILES concurrent writes at "full", started one timer tick apart so that
 * renames happen while other writes' directory fsyncs are in flight.
 */
async function explore(): Promise<Outcome> {
  const disk = new RecordingFileSystem();
  disk.addDirectory("/");
  disk.addDirectory(DIR);
  for (let i = 0; i < FILES; i++) disk.addFile(target(i), content(i, 0));
  const initial: DiskImage = disk.snapshot();
  const api = createAtomicWrite(() => disk.backend());
  const acked = new Set<number>();
  const writes: Promise<void>[] = [];
  for (let i = 0; i < FILES; i++) {
    writes.push(
      api.writeFile(target(i), content(i, 1), { durability: "full" }).then(
        () => {
          acked.add(i);
          disk.trace.push({ kind: "ack", version: i });
        },
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await Promise.all(writes);
  for (let i = 0; i < FILES; i++) {
    assert.ok(equal(disk.read(target(i)), content(i, 1)), `file ${i} written`);
  }
  const outcome: Outcome = {
    states: 0,
    lost: 0,
    torn: 0,
    directoryFsyncs: disk.trace.filter((s) => s.kind === "fsync-dir").length,
  };
  for (const state of crashStates(initial, disk.trace, { samples: 512 })) {
    outcome.states++;
    const ackedHere = new Set<number>();
    for (let k = 0; k < state.point; k++) {
      const step = disk.trace[k];
      if (step.kind === "ack") ackedHere.add(step.version);
    }
    const recovered = new RecordingFileSystem(state.image);
    for (let i = 0; i < FILES; i++) {
      const found = recovered.read(target(i));
      if (equal(found, content(i, 1))) continue;
      if (!equal(found, content(i, 0))) outcome.torn++;
      else if (ackedHere.has(i)) outcome.lost++;
    }
  }
  return outcome;
}

test("group commit: concurrent durable writes share directory fsyncs and lose nothing acknowledged", async () => {
  const outcome = await explore();
  console.log(`group commit: ${JSON.stringify(outcome)}`);
  assert.ok(outcome.states > 100, `${outcome.states} states`);
  assert.deepEqual([outcome.torn, outcome.lost], [0, 0]);
  assert.ok(
    outcome.directoryFsyncs < FILES,
    `${outcome.directoryFsyncs} directory fsyncs for ${FILES} writes`,
  );
});

test("group commit: negative control, joining a running fsync loses acknowledged writes", async () => {
  // The mistake: a write that asks while an fsync of its directory runs
  // waits for that one, which may have started before its rename.
  const running = new Map<string, Promise<void>>();
  const broken = (directory: string, fsync: () => Promise<void>) => {
    const current = running.get(directory);
    if (current) return current;
    const started = fsync();
    running.set(directory, started);
    const forget = () => running.delete(directory);
    started.then(forget, forget);
    return started;
  };
  const instance = directorySyncs as unknown as Record<string, unknown>;
  instance.sync = broken;
  instance.expect = () => {};
  instance.forget = () => {};
  try {
    const outcome = await explore();
    console.log(`broken group commit: ${JSON.stringify(outcome)}`);
    assert.equal(outcome.torn, 0);
    assert.ok(outcome.lost > 0, "joining a running fsync must lose writes");
  } finally {
    delete instance.sync;
    delete instance.expect;
    delete instance.forget;
  }
});
