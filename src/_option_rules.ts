/**
 * Every option, once, as data: which calls take it, which backends
 * understand it, how its value is checked and whether coalesced calls must
 * agree on it. Checking, unknown-option errors and the coalescing rule come
 * from this table; the README's options table from it and the documentation
 * of each option in `_option_docs.ts`, kept apart so that the documentation
 * text is not in the library's bundles.
 */

import type { Backend } from "./_backend.ts";
import { describe } from "./_path.ts";
import {
  NO_RETRY,
  type ProtocolOptions,
  type RetryPolicy,
  TRANSIENT_BUSY_RETRY,
} from "./_protocol.ts";
import type { Ownership } from "./options.ts";

/** The kinds of call that take options. */
export type CallKind =
  | "write"
  | "writeSync"
  | "open"
  | "update"
  | "lock"
  | "cleanup";

/** Options after checking, as the API and the protocol read them. */
export interface NormalizedOptions extends ProtocolOptions {
  signal: AbortSignal | undefined;
  coalesce: boolean;
  /** `cleanupTemps` only. */
  olderThan: number;
  /** `updateFile` and `updateTextFile` only: milliseconds. */
  lockTimeout: number;
  /** `lockFile` only: milliseconds. */
  timeout: number;
  /** The backend for this call (OPFS: bound to its `root` and `locks`). */
  backend: Backend;
}

/** What a rule's check sees besides the value. */
interface CheckContext {
  /** The backend before `root`/`locks` are applied. */
  backend: Backend;
}

interface OptionRule {
  name: keyof NormalizedOptions | "root" | "locks" | "encoding";
  calls: readonly CallKind[];
  /** Names users bring from other libraries, for "did you mean". */
  aliases?: readonly string[];
  /** Coalescing calls share one write only if they agree on this option. */
  coalesceKey?: boolean;
  /** Returns the normalized value; throws a TypeError or RangeError. */
  check(value: unknown, context: CheckContext): unknown;
}

const WRITES: readonly CallKind[] = ["write", "writeSync", "open", "update"];
const ASYNC_WRITES: readonly CallKind[] = ["write", "open", "update"];

function boolean(name: string) {
  return (value: unknown) => {
    if (value !== undefined && typeof value !== "boolean") {
      throw new TypeError(
        `Expected option "${name}" to be a boolean, got ${describe(value)}`,
      );
    }
    return value;
  };
}

function oneOf(name: string, allowed: readonly string[]) {
  return (value: unknown) => {
    if (value === undefined) return allowed[0];
    if (typeof value !== "string" || !allowed.includes(value)) {
      throw new TypeError(
        `Expected option "${name}" to be ${
          allowed.map((v) => `"${v}"`).join(" or ")
        }, got ${describe(value)}`,
      );
    }
    return value;
  };
}

/** A wait in milliseconds: a non-negative number, Infinity by default. */
function milliseconds(name: string) {
  return (value: unknown) => {
    if (value === undefined) return Infinity;
    if (typeof value !== "number" || !(value >= 0)) {
      throw new RangeError(
        `Expected option "${name}" to be a non-negative number of milliseconds, got ${
          describe(value)
        }`,
      );
    }
    return value;
  };
}

function unsupported(name: string, backend: Backend): TypeError {
  return new TypeError(
    `Option "${name}" is not supported by the ${backend.name} backend`,
  );
}

function isId(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 &&
    (value as number) < 2 ** 32 - 1;
}

const RULES: readonly OptionRule[] = [
  {
    name: "durability",
    calls: WRITES,
    aliases: ["fsync", "flush", "sync", "durable"],
    coalesceKey: true,
    check(value, { backend }) {
      const level = oneOf("durability", ["full", "file", "none"])(value);
      if (
        value !== undefined && level !== "none" && !backend.capabilities.fsync
      ) {
        throw new TypeError(
          `Option "durability" ${
            describe(value)
          } is impossible with the ${backend.name} backend, which has no fsync: use "none" or leave it out`,
        );
      }
      return level;
    },
  },
  {
    name: "mode",
    calls: WRITES,
    aliases: ["permissions", "perm", "chmod"],
    coalesceKey: true,
    check(value, { backend }) {
      if (value === undefined) return undefined;
      if (typeof value !== "number") {
        throw new TypeError(
          `Expected option "mode" to be a number, got ${describe(value)}`,
        );
      }
      if (!Number.isInteger(value) || value < 0 || value > 0o7777) {
        throw new RangeError(
          `Expected option "mode" to be an integer from 0 to 0o7777, got ${value}`,
        );
      }
      if (!backend.capabilities.mode) throw unsupported("mode", backend);
      return value;
    },
  },
  {
    name: "chown",
    calls: WRITES,
    aliases: ["owner", "uid", "gid"],
    coalesceKey: true,
    check(value, { backend }) {
      if (value === undefined || value === false) return value;
      if (typeof value !== "object" || value === null) {
        throw new TypeError(
          `Expected option "chown" to be { uid, gid } or false, got ${
            describe(value)
          }`,
        );
      }
      const { uid, gid } = value as { uid?: unknown; gid?: unknown };
      if (!isId(uid) || !isId(gid)) {
        throw new RangeError(
          `Expected option "chown" to hold non-negative integer uid and gid, got uid ${
            describe(uid)
          } and gid ${describe(gid)}`,
        );
      }
      if (!backend.capabilities.chown) throw unsupported("chown", backend);
      // A copy: a caller changing the object later changes nothing.
      return { uid, gid } satisfies Ownership;
    },
  },
  {
    name: "append",
    calls: WRITES,
    aliases: ["flag", "flags"],
    coalesceKey: true,
    check: boolean("append"),
  },
  {
    name: "create",
    calls: WRITES,
    coalesceKey: true,
    check: boolean("create"),
  },
  {
    name: "createNew",
    calls: WRITES,
    aliases: ["exclusive", "excl", "wx", "flag", "flags"],
    check(value, { backend }) {
      boolean("createNew")(value);
      if (value === true && !backend.async.link) {
        throw unsupported("createNew", backend);
      }
      return value;
    },
  },
  {
    name: "createParents",
    calls: WRITES,
    aliases: ["recursive", "mkdir", "mkdirp", "parents"],
    coalesceKey: true,
    check: boolean("createParents"),
  },
  {
    name: "symlinks",
    calls: WRITES,
    aliases: ["followSymlinks", "symlink", "dereference"],
    coalesceKey: true,
    check: oneOf("symlinks", ["follow", "replace"]),
  },
  {
    name: "mountedTarget",
    calls: WRITES,
    aliases: ["bindMount", "inPlace", "inPlaceFallback", "mounted"],
    coalesceKey: true,
    check(value, { backend }) {
      const policy = oneOf("mountedTarget", ["error", "copy"])(value);
      if (policy === "copy" && !backend.async.copyInPlace) {
        throw unsupported("mountedTarget", backend);
      }
      return policy;
    },
  },
  {
    name: "busyRetry",
    calls: [...WRITES, "cleanup"],
    aliases: ["retry", "retries", "renameRetry", "maxRetries"],
    coalesceKey: true,
    check(value, { backend }) {
      if (value === undefined) {
        return backend.capabilities.retryBusyRename
          ? TRANSIENT_BUSY_RETRY
          : NO_RETRY;
      }
      if (value === false) return NO_RETRY;
      if (typeof value !== "object" || value === null) {
        throw new TypeError(
          `Expected option "busyRetry" to be { attempts, totalTime? } or false, got ${
            describe(value)
          }`,
        );
      }
      for (const key in value) {
        if (key !== "attempts" && key !== "totalTime") {
          throw new TypeError(
            `Unknown key "${key}" in option "busyRetry" (keys: attempts, totalTime)`,
          );
        }
      }
      const { attempts, totalTime } = value as Record<string, unknown>;
      if (
        !Number.isInteger(attempts) || (attempts as number) < 1 ||
        (attempts as number) > 1000
      ) {
        throw new RangeError(
          `Expected option "busyRetry.attempts" to be an integer from 1 to 1000 (1: no retry), got ${
            describe(attempts)
          }`,
        );
      }
      if (
        totalTime !== undefined &&
        !(typeof totalTime === "number" && totalTime >= 0 &&
          Number.isFinite(totalTime))
      ) {
        throw new RangeError(
          `Expected option "busyRetry.totalTime" to be a non-negative finite number of milliseconds, got ${
            describe(totalTime)
          }`,
        );
      }
      // A copy: a caller changing the object later changes nothing.
      return { attempts, totalTime } as RetryPolicy;
    },
  },
  {
    name: "encoding",
    calls: WRITES,
    check(value) {
      if (
        value !== undefined &&
        !(typeof value === "string" && /^utf-?8$/i.test(value))
      ) {
        throw new TypeError(
          `Expected option "encoding" to be "utf8" or "utf-8" (strings are written as UTF-8), got ${
            describe(value)
          }: encode other text to bytes first`,
        );
      }
      return undefined;
    },
  },
  {
    name: "signal",
    calls: [...ASYNC_WRITES, "lock", "cleanup"],
    aliases: ["abortSignal", "abort"],
    coalesceKey: true,
    check(value) {
      if (value !== undefined && !(value instanceof AbortSignal)) {
        throw new TypeError(
          `Expected option "signal" to be an AbortSignal, got ${
            describe(value)
          }`,
        );
      }
      return value;
    },
  },
  {
    name: "coalesce",
    calls: ["write"],
    aliases: ["debounce", "throttle", "merge"],
    check: boolean("coalesce"),
  },
  {
    name: "lockTimeout",
    calls: ["update"],
    aliases: ["timeout", "wait", "lockWait"],
    check: milliseconds("lockTimeout"),
  },
  {
    name: "timeout",
    calls: ["lock"],
    aliases: ["lockTimeout", "wait"],
    check: milliseconds("timeout"),
  },
  {
    name: "olderThan",
    calls: ["cleanup"],
    aliases: ["age", "maxAge"],
    check(value) {
      if (value === undefined) return 600_000;
      if (typeof value !== "number" || !(value >= 0)) {
        throw new RangeError(
          `Expected option "olderThan" to be a non-negative number of milliseconds, got ${
            describe(value)
          }`,
        );
      }
      return value;
    },
  },
  {
    name: "root",
    calls: [...WRITES, "lock", "cleanup"],
    check(value) {
      if (
        value !== undefined &&
        (value as { kind?: unknown } | null)?.kind !== "directory"
      ) {
        throw new TypeError(
          `Expected option "root" to be a FileSystemDirectoryHandle, got ${
            describe(value)
          }`,
        );
      }
      return value;
    },
  },
  {
    name: "locks",
    calls: WRITES,
    check: boolean("locks"),
  },
];

const BY_NAME = new Map(RULES.map((rule) => [rule.name as string, rule]));

/**
 * Each call's rules, computed once: options are checked on every call, and
 * a burst of coalescing calls is thousands of them.
 */
const RULES_OF_CALL = new Map<CallKind, readonly OptionRule[]>();

function rulesOf(call: CallKind): readonly OptionRule[] {
  let rules = RULES_OF_CALL.get(call);
  if (!rules) {
    rules = RULES.filter((rule) => rule.calls.includes(call));
    RULES_OF_CALL.set(call, rules);
  }
  return rules;
}

/** The rule names a call takes, for messages. */
function namesFor(call: CallKind): string[] {
  return rulesOf(call).map((r) => r.name);
}

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length];
}

/** The options a caller most likely meant by `key`, if any is close. */
function suggestions(key: string, call: CallKind): string[] {
  const names = namesFor(call);
  const lower = key.toLowerCase();
  const aliased = RULES.filter((r) =>
    names.includes(r.name) &&
    r.aliases?.some((a) => a.toLowerCase() === lower)
  ).map((r) => r.name);
  if (aliased.length > 0) return aliased;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of names) {
    const d = distance(lower, name.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return bestDistance <= Math.max(1, Math.floor(key.length / 4)) ? [best!] : [];
}

function rejectUnknown(key: string, call: CallKind, fn: string): never {
  const rule = BY_NAME.get(key);
  if (rule) {
    throw new TypeError(`Option "${key}" is not supported by ${fn}`);
  }
  const meant = suggestions(key, call).map((name) => `"${name}"`);
  throw new TypeError(
    `Unknown option "${key}" for ${fn}${
      meant.length ? `: did you mean ${meant.join(" or ")}?` : ""
    } (options: ${namesFor(call).join(", ")})`,
  );
}

/**
 * Checks the options of one call before anything is touched. Every
 * enumerable key, own or inherited, must be an option of this call. Each
 * option is read exactly once with a plain property access (so inherited
 * values count, as in `Deno.writeFile` and `fs.writeFile`, and a getter
 * runs once).
 */
export function normalizeOptions(
  input: unknown,
  base: Backend,
  call: CallKind,
  fn: string,
): NormalizedOptions {
  if (input !== undefined && (typeof input !== "object" || input === null)) {
    throw new TypeError(
      `Expected "options" to be an object, got ${describe(input)}`,
    );
  }
  const options = (input ?? {}) as Record<string, unknown>;
  const rules = rulesOf(call);
  for (const key in options) {
    const rule = BY_NAME.get(key);
    if (!rule || !rules.includes(rule)) rejectUnknown(key, call, fn);
  }
  const raw: Record<string, unknown> = {};
  for (const rule of rules) raw[rule.name] = options[rule.name];
  const backend = withSettings(raw, base);
  const checked: Record<string, unknown> = { backend };
  const context = { backend };
  for (const rule of rules) {
    checked[rule.name] = rule.check(raw[rule.name], context);
  }
  const normalized = checked as unknown as NormalizedOptions;
  normalized.append = checked.append === true;
  normalized.createNew = checked.createNew === true;
  normalized.create = checked.create !== false;
  normalized.createParents = checked.createParents === true;
  normalized.coalesce = checked.coalesce === true;
  if (normalized.coalesce && (normalized.append || normalized.createNew)) {
    throw new TypeError(
      `Options "${
        normalized.append ? "append" : "createNew"
      }" and "coalesce" cannot be combined: coalescing would drop ${
        normalized.append ? "appended data" : "a write that must fail"
      }`,
    );
  }
  if (normalized.createNew && !normalized.create) {
    throw new TypeError(
      `Options "createNew: true" and "create: false" contradict each other`,
    );
  }
  return normalized;
}

/** Applies `root` and `locks` (OPFS) to the backend. */
function withSettings(raw: Record<string, unknown>, base: Backend): Backend {
  const { root, locks } = raw;
  if (root === undefined && locks === undefined) return base;
  if (!base.withSettings) {
    throw new TypeError(
      `Options "root" and "locks" are only for OPFS, not the ${base.name} backend`,
    );
  }
  const rootRule = BY_NAME.get("root")!;
  const locksRule = BY_NAME.get("locks")!;
  return base.withSettings({
    root: rootRule.check(root, { backend: base }),
    locks: locksRule.check(locks, { backend: base }) as boolean | undefined,
  });
}

const COALESCE_KEYS = RULES.filter((r) => r.coalesceKey).map((r) => r.name);

/**
 * Whether two coalescing calls may be merged into one write: same backend
 * (OPFS: same root and locks) and the same value for every option marked
 * `coalesceKey` (the same signal object: each caller's abort stays its own).
 */
export function sameCoalesceShape(a: unknown, b: unknown): boolean {
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  if (x.backend !== y.backend) return false;
  // A plain loop: this runs once per call that joins a batch.
  for (const key of COALESCE_KEYS) {
    const [p, q] = [x[key], y[key]];
    if (p !== q && !sameOptionObject(key, p, q)) return false;
  }
  return true;
}

/** Equal option objects: the same retry policy, the same chown. */
function sameOptionObject(key: string, p: unknown, q: unknown): boolean {
  if (typeof p !== "object" || typeof q !== "object" || !p || !q) {
    return false;
  }
  if (key === "busyRetry") {
    const [o, r] = [p as RetryPolicy, q as RetryPolicy];
    return o.attempts === r.attempts && o.totalTime === r.totalTime;
  }
  const [o, r] = [p as Ownership, q as Ownership];
  return key === "chown" && o.uid === r.uid && o.gid === r.gid;
}

/** Every option's name, in the order of the README's table. */
export function optionNames(): string[] {
  return RULES.map((rule) => rule.name);
}
