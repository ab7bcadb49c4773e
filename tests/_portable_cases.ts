/**
 * The portable conformance cases: written once against a small `Disk`
 * interface, run on the real file system for every fs backend (from
 * `_conformance.ts`) and in real browsers on OPFS (`browser/_opfs_cases.ts`).
 * No `node:` import here: this module is bundled for browsers.
 */

import type { AtomicWriteApi } from "../src/options.ts";
import { AtomicWriteError } from "../src/errors.ts";

/** How a case reads and prepares files, and addresses them for the API. */
export interface Disk {
  /** The backend's name ("opfs", "deno", "node", "bun"). */
  backend: string;
  /** The path to give the API for `name`, relative to the case directory. */
  path(name: string): string;
  /** The case directory as the API addresses it (for `cleanupTemps`). */
  directory: string;
  /** Options every call needs (OPFS: `{ root }`). */
  options: Record<string, unknown>;
  readText(name: string): Promise<string>;
  readBytes(name: string): Promise<Uint8Array>;
  /** Names in the case directory. */
  list(): Promise<string[]>;
  put(name: string, text: string): Promise<void>;
  makeDirectory(name: string): Promise<void>;
}

/** What a portable case gets. */
export interface PortableSubject {
  api: AtomicWriteApi;
  disk: Disk;
}

/** A portable case. */
export interface PortableCase {
  name: string;
  /** Only for this backend (its own rules), skipped elsewhere. */
  only?: string;
  run(subject: PortableSubject): Promise<void>;
}

/** Throws unless `condition` holds. */
export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`check failed: ${message}`);
}

export async function rejects(
  promise: Promise<unknown>,
  test: (error: unknown) => boolean,
  message: string,
): Promise<void> {
  try {
    await promise;
  } catch (error) {
    check(test(error), `${message}: got ${error}`);
    return;
  }
  throw new Error(`check failed: ${message}: no error`);
}

const isStep = (step: string, code?: string) => (error: unknown) =>
  error instanceof AtomicWriteError && error.step === step &&
  (code === undefined || error.code === code);

/** A stream that stops after its first chunk until released. */
export function stalled(error?: Error) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  let started!: () => void;
  const firstTaken = new Promise<void>((resolve) => started = resolve);
  async function* chunks() {
    yield "new, part one";
    started();
    await released;
    if (error) throw error;
    yield ", part two";
  }
  return { chunks: chunks(), release, firstTaken };
}

const encoder = new TextEncoder();

/** The cases. */
export const portableCases: PortableCase[] = [
  {
    name: "writes every data type byte-exact",
    async run({ api, disk }) {
      const buffer = new ArrayBuffer(32);
      new Uint8Array(buffer).forEach((_, i, a) => a[i] = i * 9);
      const views: ArrayBufferView[] = [
        new Uint16Array(buffer, 2, 5),
        new Float64Array(buffer, 8, 2),
        new DataView(buffer, 3, 11),
      ];
      for (const view of views) {
        await api.writeFile(disk.path("v.bin"), view, disk.options);
        const expected = new Uint8Array(
          view.buffer,
          view.byteOffset,
          view.byteLength,
        );
        check(
          String(await disk.readBytes("v.bin")) === String(expected),
          view.constructor.name,
        );
      }
      await api.writeFile(disk.path("s.txt"), "héllo 👋", disk.options);
      check(await disk.readText("s.txt") === "héllo 👋", "string");
      await api.writeFile(
        disk.path("b.bin"),
        new Blob(["blob", new Uint8Array([33])]),
        disk.options,
      );
      check(await disk.readText("b.bin") === "blob!", "blob");
      const stream = new ReadableStream({
        start(c) {
          c.enqueue("a");
          c.enqueue(encoder.encode("b"));
          c.close();
        },
      });
      await api.writeFile(disk.path("st.txt"), stream, disk.options);
      check(await disk.readText("st.txt") === "ab", "stream");
      await api.writeTextFile(disk.path("e.txt"), "", disk.options);
      check((await disk.readBytes("e.txt")).length === 0, "empty");
    },
  },
  {
    name: "replaces an existing file whole",
    async run({ api, disk }) {
      await disk.put("t.txt", "old content that is longer");
      await api.writeTextFile(disk.path("t.txt"), "new", disk.options);
      check(await disk.readText("t.txt") === "new", "content");
    },
  },
  {
    name: "a target that is a directory is refused and survives",
    async run({ api, disk }) {
      await disk.makeDirectory("folder");
      await disk.put("folder/inside.txt", "keep");
      await rejects(
        api.writeTextFile(disk.path("folder"), "x", disk.options),
        isStep("resolve", "EISDIR"),
        "EISDIR",
      );
      check(
        await disk.readText("folder/inside.txt") === "keep",
        "directory kept",
      );
    },
  },
  {
    name: "invalid OPFS names are TypeErrors before anything is touched",
    only: "opfs",
    async run({ api, disk }) {
      for (const path of ["", ".", "..", "a/../b", "a\\b", "x//y"]) {
        await rejects(
          api.writeTextFile(path, "x", disk.options),
          (e) => e instanceof TypeError,
          JSON.stringify(path),
        );
      }
      for (const path of [null, undefined, 42]) {
        await rejects(
          api.writeTextFile(path as unknown as string, "x", disk.options),
          (e) => e instanceof TypeError,
          String(path),
        );
      }
      check((await disk.list()).length === 0, "nothing created");
    },
  },
  {
    name: "a missing parent is an error unless createParents",
    async run({ api, disk }) {
      await rejects(
        api.writeTextFile(disk.path("a/b/c.txt"), "x", disk.options),
        isStep("resolve", "ENOENT"),
        "ENOENT",
      );
      await api.writeTextFile(disk.path("a/b/c.txt"), "deep", {
        ...disk.options,
        createParents: true,
      });
      check(await disk.readText("a/b/c.txt") === "deep", "created");
    },
  },
  {
    name: "options that cannot apply in a browser are errors",
    only: "opfs",
    async run({ api, disk }) {
      await rejects(
        api.writeTextFile(disk.path("x"), "x", {
          ...disk.options,
          mode: 0o600,
        }),
        (e) => e instanceof TypeError,
        "mode",
      );
      await rejects(
        api.writeTextFile(disk.path("x"), "x", {
          ...disk.options,
          chown: { uid: 1, gid: 1 },
        }),
        (e) => e instanceof TypeError,
        "chown",
      );
      await rejects(
        api.writeTextFile(disk.path("x"), "x", {
          ...disk.options,
          durability: "full",
        }),
        (e) => e instanceof TypeError,
        "durability",
      );
      await api.writeTextFile(disk.path("x"), "ok", {
        ...disk.options,
        durability: "none",
      });
      check(await disk.readText("x") === "ok", "none works");
    },
  },
  {
    name: "an abort before and during the write keeps the old file",
    async run({ api, disk }) {
      await disk.put("t.txt", "old");
      const before = new AbortController();
      before.abort(new Error("early"));
      await rejects(
        api.writeTextFile(disk.path("t.txt"), "new", {
          ...disk.options,
          signal: before.signal,
        }),
        (e) => String(e).includes("early"),
        "before",
      );
      const during = new AbortController();
      const { chunks, release, firstTaken } = stalled();
      const writing = api.writeFile(disk.path("t.txt"), chunks, {
        ...disk.options,
        signal: during.signal,
      });
      await firstTaken;
      check(await disk.readText("t.txt") === "old", "old while writing");
      during.abort(new Error("late"));
      release();
      await rejects(writing, (e) => String(e).includes("late"), "during");
      check(await disk.readText("t.txt") === "old", "old kept");
    },
  },
  {
    name: "an input stream failing midway keeps the old file",
    async run({ api, disk }) {
      await disk.put("t.txt", "old");
      const { chunks, release, firstTaken } = stalled(
        new Error("broken source"),
      );
      const writing = api.writeFile(disk.path("t.txt"), chunks, disk.options);
      await firstTaken;
      release();
      await rejects(writing, isStep("data"), "data step");
      check(await disk.readText("t.txt") === "old", "old kept");
    },
  },
  {
    name:
      "openAtomic keeps the old content readable until commit; discard drops it",
    async run({ api, disk }) {
      await disk.put("doc.txt", "one\ntwo\n");
      const file = await api.openAtomic(disk.path("doc.txt"), disk.options);
      for (const line of (await disk.readText("doc.txt")).split("\n")) {
        await file.write(line.toUpperCase() + (line ? "\n" : ""));
      }
      check(
        await disk.readText("doc.txt") === "one\ntwo\n",
        "old until commit",
      );
      await file.commit();
      check(await disk.readText("doc.txt") === "ONE\nTWO\n", "committed");
      {
        await using dropped = await api.openAtomic(
          disk.path("doc.txt"),
          disk.options,
        );
        await dropped.write("never");
      }
      check(await disk.readText("doc.txt") === "ONE\nTWO\n", "discarded");
    },
  },
  {
    name: "append, ordering and coalescing",
    async run({ api, disk }) {
      await disk.put("log.txt", "a");
      await api.writeTextFile(disk.path("log.txt"), "b", {
        ...disk.options,
        append: true,
      });
      check(await disk.readText("log.txt") === "ab", "append");
      await Promise.all(
        Array.from(
          { length: 20 },
          (_, i) => api.writeTextFile(disk.path("o.txt"), `${i}`, disk.options),
        ),
      );
      check(await disk.readText("o.txt") === "19", "call order");
      await Promise.all(
        Array.from(
          { length: 50 },
          (_, i) =>
            api.writeTextFile(disk.path("c.txt"), `${i}`, {
              ...disk.options,
              coalesce: true,
            }),
        ),
      );
      check(await disk.readText("c.txt") === "49", "coalesced");
    },
  },
  {
    name: "cleanupTemps removes only stale temp files",
    async run({ api, disk }) {
      await disk.put(".d.json.0123456789abcdef.atomic-tmp", "x");
      await disk.put("keep.tmp", "x");
      const removed = await api.cleanupTemps(disk.directory, {
        ...disk.options,
        olderThan: 0,
      });
      check(
        removed.length === 1 && removed[0].endsWith(".atomic-tmp"),
        String(removed),
      );
      check((await disk.list()).join() === "keep.tmp", "foreign file kept");
    },
  },
  {
    name:
      "unknown options are TypeErrors naming the option meant, before anything is touched",
    async run({ api, disk }) {
      await disk.put("t.txt", "old");
      const typos: [Record<string, unknown>, string][] = [
        [{ durabilty: "none" }, "durability"],
        [{ fsync: false }, "durability"],
        [{ createParent: true }, "createParents"],
        [{ apend: true }, "append"],
        [{ Append: true }, "append"],
        [{ flag: "wx" }, "createNew"],
      ];
      for (const [options, meant] of typos) {
        const [unknown] = Object.keys(options);
        await rejects(
          api.writeTextFile(disk.path("t.txt"), "new", {
            ...disk.options,
            ...options,
          }),
          (e) =>
            e instanceof TypeError && e.message.includes(`"${unknown}"`) &&
            /did you mean .*"/.test(e.message) &&
            e.message.includes(`"${meant}"`),
          unknown,
        );
      }
      await rejects(
        api.writeTextFile(disk.path("t.txt"), "new", {
          ...disk.options,
          encoding: "latin1",
        } as never),
        (e) => e instanceof TypeError && e.message.includes("encoding"),
        "latin1",
      );
      await rejects(
        api.openAtomic(disk.path("t.txt"), {
          ...disk.options,
          coalesce: true,
        } as never),
        (e) => e instanceof TypeError && e.message.includes("openAtomic"),
        "coalesce is not an openAtomic option",
      );
      await rejects(
        api.cleanupTemps(disk.directory, {
          ...disk.options,
          olderThen: 0,
        } as never),
        (e) => e instanceof TypeError && e.message.includes('"olderThan"'),
        "cleanupTemps typo",
      );
      check(await disk.readText("t.txt") === "old", "nothing written");
      check((await disk.list()).join() === "t.txt", "no temp file");
      await api.writeTextFile(disk.path("t.txt"), "utf8", {
        ...disk.options,
        encoding: "utf8",
      });
      check(await disk.readText("t.txt") === "utf8", "encoding utf8 works");
    },
  },
  {
    name:
      "options are read once each, own or inherited; inherited unknown keys are refused",
    async run({ api, disk }) {
      await disk.put("log.txt", "a");
      const inherited = Object.create({ ...disk.options, append: true });
      await api.writeTextFile(disk.path("log.txt"), "b", inherited);
      check(await disk.readText("log.txt") === "ab", "inherited append");
      let reads = 0;
      const counting = {
        ...disk.options,
        get append() {
          reads++;
          return true;
        },
      };
      await api.writeTextFile(disk.path("log.txt"), "c", counting);
      check(await disk.readText("log.txt") === "abc", "getter append");
      check(reads === 1, `getter read ${reads} times`);
      await rejects(
        api.writeTextFile(
          disk.path("log.txt"),
          "d",
          Object.create({ ...disk.options, apend: true }),
        ),
        (e) => e instanceof TypeError && e.message.includes('"apend"'),
        "inherited typo",
      );
      check(await disk.readText("log.txt") === "abc", "nothing written");
    },
  },
  {
    name: "create: false and createNew follow Deno.writeFile",
    async run({ api, disk }) {
      await rejects(
        api.writeTextFile(disk.path("missing.txt"), "x", {
          ...disk.options,
          create: false,
        }),
        isStep("resolve", "ENOENT"),
        "create: false on a missing file",
      );
      await disk.put("there.txt", "old");
      await rejects(
        api.writeTextFile(disk.path("there.txt"), "x", {
          ...disk.options,
          createNew: true,
        }),
        isStep("resolve", "EEXIST"),
        "createNew on an existing file",
      );
      check(await disk.readText("there.txt") === "old", "old kept");
      await api.writeTextFile(disk.path("there.txt"), "new", {
        ...disk.options,
        create: false,
      });
      check(await disk.readText("there.txt") === "new", "create: false");
      await api.writeTextFile(disk.path("fresh.txt"), "fresh", {
        ...disk.options,
        createNew: true,
      });
      check(await disk.readText("fresh.txt") === "fresh", "createNew");
      // Two exclusive creators at once: exactly one wins.
      const results = await Promise.allSettled(
        ["one", "two"].map((who) =>
          api.writeTextFile(disk.path("race.txt"), who, {
            ...disk.options,
            createNew: true,
          })
        ),
      );
      const won = results.filter((r) => r.status === "fulfilled").length;
      check(won === 1, `${won} exclusive creators won`);
      const lost = results.find((r) => r.status === "rejected");
      check(
        lost?.status === "rejected" &&
            isStep("resolve", "EEXIST")(lost.reason) ||
          lost?.status === "rejected" &&
            isStep("rename", "EEXIST")(lost.reason),
        `the loser got EEXIST: ${lost?.status === "rejected" && lost.reason}`,
      );
      const names = (await disk.list()).filter((n) =>
        n.endsWith(".atomic-tmp")
      );
      check(names.length === 0, `temp files left: ${names}`);
    },
  },
  {
    name: "concurrent locked updates lose no increment and leave no lock",
    async run({ api, disk }) {
      const file = disk.path("count.json");
      const increment = (old: string | undefined) =>
        JSON.stringify({ n: (old === undefined ? 0 : JSON.parse(old).n) + 1 });
      await Promise.all(
        Array.from(
          { length: 50 },
          () => api.updateTextFile(file, increment, disk.options),
        ),
      );
      check(
        JSON.parse(await disk.readText("count.json")).n === 50,
        `50 increments: ${await disk.readText("count.json")}`,
      );
      // No `await using`: WebKit cannot parse it (FACTS.md).
      const held = await api.lockFile(file, disk.options);
      try {
        await rejects(
          api.updateTextFile(file, () => "lost", {
            ...disk.options,
            lockTimeout: 50,
          }),
          isStep("lock", "ETIMEDOUT"),
          "an update waiting for a held lock times out",
        );
      } finally {
        await held.release();
      }
      await rejects(
        api.updateTextFile(file, () => {
          throw new RangeError("no");
        }, disk.options),
        (error) => error instanceof RangeError,
        "an error of fn is rethrown",
      );
      check(
        JSON.parse(await disk.readText("count.json")).n === 50,
        "the file is untouched by the failed updates",
      );
      const names = await disk.list();
      check(
        names.length === 1 && names[0] === "count.json",
        `only the target is left: ${names}`,
      );
    },
  },
];
