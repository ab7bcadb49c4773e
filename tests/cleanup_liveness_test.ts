/**
 * `cleanupTemps` tells a dead writer's temp file from a live one's: a temp
 * file of a running writer (another process, or this one) is never removed,
 * whatever `olderThan`; one whose writer died goes at once, with the default
 * options. Temp files whose writer cannot be checked (old names without an
 * owner, another host or boot) still go by age. Every backend this runtime
 * hosts, with a child process of this runtime as the other writer.
 */

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import {
  availableBackends,
  createBackend,
  leftoverTemps,
  makeTempDir,
  nameWithSkipReason,
  ROOT,
  scriptCommand,
  subjectFor,
} from "./_helpers.ts";

const CHILD = path.join(ROOT, "tests", "_liveness_child.ts");
const LINUX = fs.existsSync("/proc/self/stat");
const noProc = LINUX ? false : "needs /proc (Linux)";
const needsProc = (name: string) => nameWithSkipReason(name, noProc);

/** Starts a child that holds a pending temp file for `target`. */
async function startWriter(
  backend: string,
  target: string,
): Promise<ChildProcess> {
  const command = scriptCommand(CHILD);
  const child = spawn(command[0], [...command.slice(1), backend, target], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let errors = "";
  child.stderr!.on("data", (chunk) => errors += chunk);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (chunk) => {
      output += chunk;
      if (output.includes("ready")) resolve();
    });
    child.on(
      "exit",
      (code) =>
        reject(new Error(`writer exited (${code}) before ready: ${errors}`)),
    );
  });
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.on("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

function age(file: string, milliseconds: number): void {
  const then = new Date(Date.now() - milliseconds);
  fs.utimesSync(file, then, then);
}

/** The owner part of a temp name: `.NAME.OWNER.RANDOM.atomic-tmp`. */
function ownerOf(name: string): string | undefined {
  return /\.([0-9a-v]{8}-[0-9a-v]{1,7}-[0-9a-v]{1,13})\.[0-9a-v]{16}\.atomic-tmp$/
    .exec(name)?.[1];
}

const children: ChildProcess[] = [];
after(async () => {
  for (const child of children) await kill(child);
});

for (const name of availableBackends()) {
  const { api } = subjectFor(name, createBackend(name));
  describe(`cleanupTemps liveness (${name} backend)`, () => {
    test(
      needsProc("a live writer's temp stays; a killed writer's goes at once"),
      {
        skip: noProc,
        timeout: 60_000,
      },
      async () => {
        const dir = makeTempDir();
        const child = await startWriter(name, path.join(dir, "data.json"));
        children.push(child);
        const [temp] = leftoverTemps(dir);
        assert.ok(temp, "the writer holds a temp file");
        assert.deepEqual(await api.cleanupTemps(dir), [], "default options");
        // A live writer's temp file is never removed, whatever olderThan.
        age(path.join(dir, temp), 3_600_000);
        assert.deepEqual(await api.cleanupTemps(dir, { olderThan: 0 }), []);
        assert.deepEqual(leftoverTemps(dir), [temp]);

        await kill(child);
        age(path.join(dir, temp), -60_000); // fresh again: age is not the reason
        assert.deepEqual(await api.cleanupTemps(dir), [path.join(dir, temp)]);
        assert.deepEqual(leftoverTemps(dir), []);
      },
    );

    test(needsProc("this process's own pending temp is live"), {
      skip: noProc,
    }, async () => {
      const dir = makeTempDir();
      const file = await api.openAtomic(path.join(dir, "own.txt"));
      await file.write("pending");
      assert.deepEqual(await api.cleanupTemps(dir, { olderThan: 0 }), []);
      await file.commit();
      assert.equal(
        fs.readFileSync(path.join(dir, "own.txt"), "utf8"),
        "pending",
      );
      assert.deepEqual(leftoverTemps(dir), []);
    });

    test(
      needsProc("a reused pid (same pid, other start time) is a dead writer"),
      {
        skip: noProc,
      },
      async () => {
        const dir = makeTempDir();
        const file = await api.openAtomic(path.join(dir, "own.txt"));
        const [own] = leftoverTemps(dir);
        const [tag, pid, start] = ownerOf(own)!.split("-");
        const other = `${tag}-${pid}-${start === "1" ? "2" : "1"}`;
        const reused = path.join(
          dir,
          `.x.${other}.0123456789abcdef.atomic-tmp`,
        );
        fs.writeFileSync(reused, "x");
        assert.deepEqual(await api.cleanupTemps(dir), [reused]);
        await file.discard();
      },
    );

    test("old names and other hosts' temps go by age", async () => {
      const dir = makeTempDir();
      // Old format (no owner), and an owner on another host or boot whose
      // pid does not exist here: nothing tells whether they are alive.
      const old = path.join(dir, ".data.json.0123456789abcdef.atomic-tmp");
      const foreign = path.join(
        dir,
        ".data.json.00000000-vvvvvvv-1.0123456789abcdef.atomic-tmp",
      );
      for (const file of [old, foreign]) fs.writeFileSync(file, "x");
      assert.deepEqual(await api.cleanupTemps(dir), []);
      for (const file of [old, foreign]) age(file, 3_600_000);
      assert.deepEqual((await api.cleanupTemps(dir)).sort(), [foreign, old]);
    });
  });
}
