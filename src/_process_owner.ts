/**
 * The identity of a process on Linux, for temp names and for telling whether
 * a temp file's writer still runs (see `_owner.ts`).
 *
 * A process names itself `TAG-PID-START` (base 32): TAG hashes the boot id
 * and the pid namespace, so a pid is only ever looked up where it means the
 * same process; START is the process's start time (field 22 of
 * `/proc/PID/stat`, clock ticks since boot), so a reused pid is not taken for
 * the writer. Without `/proc` (or permission to read it) there is none.
 *
 * `/proc` is read synchronously: a few small reads, once per process for our
 * own identity and once per temp file in a cleanup.
 */

import { ownerOfTempName, PROCESS_OWNER } from "./_owner.ts";

/** Synchronous reads of `/proc`; each throws if it cannot. */
interface ProcReader {
  readText(path: string): string;
  readLink(path: string): string;
  pid: number;
}

type NodeFs = {
  readFileSync(path: string, encoding: "latin1"): string;
  readlinkSync(path: string): string;
};

/**
 * Deno's own API in Deno (after a permission query, so that a program run
 * without `--allow-read=/proc` is not prompted), `node:fs` in Node and Bun.
 */
function procReader(): ProcReader | undefined {
  try {
    const deno = (globalThis as { Deno?: typeof Deno }).Deno;
    if (deno) {
      const state = deno.permissions.querySync({ name: "read", path: "/proc" });
      if (state.state !== "granted") return undefined;
      return {
        readText: (path) => deno.readTextFileSync(path),
        readLink: (path) => deno.readLinkSync(path),
        pid: deno.pid,
      };
    }
    const process = (globalThis as {
      process?: {
        pid: number;
        getBuiltinModule?: (name: "node:fs") => NodeFs;
      };
    }).process;
    const fs = process?.getBuiltinModule?.("node:fs");
    if (!fs) return undefined;
    return {
      readText: (path) => fs.readFileSync(path, "latin1"),
      readLink: (path) => fs.readlinkSync(path),
      pid: process!.pid,
    };
  } catch {
    return undefined;
  }
}

/** Fields 3 (state) and 22 (start time) of a `/proc/PID/stat` text. */
function parseStat(stat: string): { state: string; start: string } {
  // The command name (field 2) may hold spaces and parentheses: count the
  // fields after its closing parenthesis (field 3 comes first).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const start = fields[22 - 3];
  if (!/^\d+$/.test(start ?? "")) throw new Error("unexpected /proc stat");
  return { state: fields[0], start };
}

/** 40 bits of a 64-bit FNV-1a hash, as 8 base-32 digits. */
function shortHash(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) {
    hash = ((hash ^ BigInt(text.charCodeAt(i))) * 0x100000001b3n) &
      0xffffffffffffffffn;
  }
  return (hash & 0xffffffffffn).toString(32).padStart(8, "0");
}

interface Identity {
  reader: ProcReader;
  tag: string;
  owner: string;
  /**
   * `/proc` is mounted with `hidepid`: another user's process may be
   * invisible, so a missing pid proves nothing.
   */
  hidesPids: boolean;
}

function readIdentity(): Identity | undefined {
  const reader = procReader();
  if (!reader) return undefined;
  try {
    // Our pids are only comparable with /proc's if /proc belongs to our own
    // pid namespace: then NStgid lists exactly one pid, ours.
    const status = reader.readText("/proc/self/status");
    const nstgid = /^NStgid:\s*(.*)$/m.exec(status)?.[1].trim().split(/\s+/);
    if (nstgid?.length !== 1 || nstgid[0] !== String(reader.pid)) {
      return undefined;
    }
    const boot = reader.readText("/proc/sys/kernel/random/boot_id").trim();
    const namespace = reader.readLink("/proc/self/ns/pid");
    const { start } = parseStat(reader.readText(`/proc/${reader.pid}/stat`));
    const tag = shortHash(`${boot} ${namespace}`);
    const mounts = reader.readText("/proc/self/mountinfo");
    const procMount = mounts.split("\n").find((line) =>
      line.split(" ")[4] === "/proc"
    ) ?? "";
    return {
      reader,
      tag,
      owner: `${tag}-${reader.pid.toString(32)}-${BigInt(start).toString(32)}`,
      hidesPids: /hidepid=(?!0\b|off\b)/.test(procMount),
    };
  } catch {
    return undefined;
  }
}

let identity: Identity | undefined | null = null;

function ownIdentity(): Identity | undefined {
  if (identity === null) identity = readIdentity();
  return identity;
}

/**
 * The owner this process puts in its temp names, `TAG-PID-START`, or
 * undefined where it has no identity (the file system backends'
 * `tempOwner`).
 */
export function processOwner(): string | undefined {
  return ownIdentity()?.owner;
}

/**
 * Whether the process that wrote the temp file `path` is running: true (live:
 * keep its temp file), false (gone: the temp file is garbage) or undefined
 * (cannot tell: another host, boot or pid namespace, no owner in the name, no
 * `/proc`, no permission).
 */
export function processWriterAlive(path: string): boolean | undefined {
  const match = PROCESS_OWNER.exec(ownerOfTempName(path) ?? "");
  const self = match && ownIdentity();
  if (!match || !self || match[1] !== self.tag) return undefined;
  const pid = parseInt(match[2], 32);
  let stat: string;
  try {
    stat = self.reader.readText(`/proc/${pid}/stat`);
  } catch (error) {
    const code = (error as { code?: string }).code;
    const missing = code === "ENOENT" || code === "ESRCH" ||
      (error as { name?: string }).name === "NotFound";
    return missing && !self.hidesPids ? false : undefined;
  }
  try {
    const { state, start } = parseStat(stat);
    // A zombie (killed, not yet reaped by its parent) writes no more.
    return state !== "Z" && state !== "X" &&
      BigInt(start).toString(32) === match[3];
  } catch {
    return undefined;
  }
}
