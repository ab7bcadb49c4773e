/**
 * The documentation of each option, for the README's options table (see
 * `.ci/options-table.ts`): its default and what it does, in Markdown. Keyed
 * by the names of the option rules (`_option_rules.ts`, which the table
 * follows in order); `tests/docs_test.ts` checks both name the same options.
 * Not imported by the library, so none of this text is in its bundles.
 */

import { optionNames } from "./_option_rules.ts";

/** How the README documents one option. */
export interface OptionDoc {
  /** The default, as the table shows it. */
  default: string;
  /** What the option does. */
  summary: string;
}

/** Each option's documentation, by option name. */
export const OPTION_DOCS: Readonly<Record<string, OptionDoc>> = {
  durability: {
    default: '`"full"`',
    summary: '`"full"`, `"file"` or `"none"`: see the table above.',
  },
  mode: {
    default: "the existing target's bits, else `0o666` filtered by the umask",
    summary:
      "Permission bits, filtered by the process umask like `open(2)` and `fs.writeFile` (so `0o666` gives `0o644` under the usual umask `022`), also when the target exists. Setuid, setgid and sticky bits pass (the umask holds none).",
  },
  chown: {
    default: "keep the existing owner and group where permitted",
    summary:
      "`{ uid, gid }` sets them (an error if impossible); `false` leaves the writing process's. Keeping them needs root; for other users the `EPERM`/`EINVAL` is ignored.",
  },
  append: {
    default: "`false`",
    summary:
      "New content = existing content + data. The old content is copied into the temp file first (a reflink where the file system has one), so an append is atomic too. A missing target counts as empty.",
  },
  create: {
    default: "`true`",
    summary:
      'As in `Deno.writeFile`: `false` requires the target to exist (else `AtomicWriteError`, step `"resolve"`, code `"ENOENT"`).',
  },
  createNew: {
    default: "`false`",
    summary:
      'As in `Deno.writeFile`: the target must not exist, not even as a dangling link (else code `"EEXIST"`). The commit is a `link()` that cannot replace a file another process created meanwhile (then step `"rename"`, code `"EEXIST"`); in OPFS a check under the Web Lock. Not combinable with `create: false` or `coalesce`.',
  },
  createParents: {
    default: "`false`",
    summary:
      'Create missing parent directories (and with `"full"` fsync the directories that hold them). Without it a missing parent is an `AtomicWriteError`, step `"resolve"`, code `"ENOENT"`.',
  },
  symlinks: {
    default: '`"follow"`',
    summary:
      '`"follow"` writes through to the link\'s final target and keeps the link (a dangling link\'s target is created); `"replace"` replaces the link itself with a regular file.',
  },
  mountedTarget: {
    default: '`"error"`',
    summary:
      'A target that is itself a mount point (a bind-mounted file: Docker, Flatpak, Kubernetes ConfigMaps) cannot be renamed over (`EBUSY`/`EXDEV`). `"error"`: an `AtomicWriteError`, step `"rename"`, whose message names this option. `"copy"`: only then, the fsynced temp file is copied into the target IN PLACE (same inode, owner and bits) and the target fsynced: NOT atomic, a crash during the copy leaves a torn file. See [Bind-mounted files](#bind-mounted-files). Not in OPFS.',
  },
  busyRetry: {
    default:
      "`{ attempts: 8 }` on Windows and in OPFS (1.27 s); no retry elsewhere",
    summary:
      "`{ attempts, totalTime? }` or `false`: how often a rename, or an unlink of a temp file (also in `cleanupTemps`), that fails with `EPERM`/`EACCES`/`EBUSY` is tried, waiting 10 ms, doubling up to 1 s per wait, at most `totalTime` ms in all. See [Retries](#retries-of-busy-files).",
  },
  encoding: {
    default: '`"utf-8"`',
    summary:
      'Strings are always written as UTF-8: `"utf8"` and `"utf-8"` are accepted (as `fs.writeFile` users pass them), any other encoding is a `TypeError`.',
  },
  signal: {
    default: "none",
    summary:
      "An `AbortSignal`. An abort before the rename rejects with the signal's reason, keeps the old file and removes the temp file. After the rename it has no effect.",
  },
  coalesce: {
    default: "`false`",
    summary:
      "While a write to the file is in flight, later coalescing writes wait, and only the newest waiting data is written. Every caller settles once content at least as new as its own is committed. Calls differing in any other option are never merged. Not combinable with `append` or `createNew` (a `TypeError`): their data or their failure must not be dropped.",
  },
  lockTimeout: {
    default: "`Infinity`",
    summary:
      '`updateFile`/`updateTextFile` only: how many milliseconds to wait for the lock; then an `AtomicWriteError`, step `"lock"`, code `"ETIMEDOUT"`, and the file is untouched.',
  },
  timeout: {
    default: "`Infinity`",
    summary: "`lockFile` only: as `lockTimeout`.",
  },
  olderThan: {
    default: "`600000`",
    summary:
      "`cleanupTemps` only: remove temp files of unknown writers only when unmodified for this many milliseconds.",
  },
  root: {
    default: "the OPFS root",
    summary:
      "OPFS only: the `FileSystemDirectoryHandle` that paths resolve against. Any other backend rejects it.",
  },
  locks: {
    default: "`true`",
    summary:
      "OPFS only: serialise writers of one path across tabs and workers with Web Locks. Any other backend rejects it.",
  },
};

/** The README's options table, generated from the rules and their docs. */
export function optionsTable(): string {
  const rows = optionNames().map((name) => {
    const doc = OPTION_DOCS[name];
    if (!doc) throw new Error(`Option "${name}" has no documentation`);
    return [`\`${name}\``, doc.default, doc.summary];
  });
  const header = ["option", "default", "meaning"];
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => row[i].length))
  );
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [
    line(header),
    `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`,
    ...rows.map(line),
  ].join("\n");
}
