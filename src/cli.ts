#!/usr/bin/env node
/**
 * `atomic-write`: a `sponge`-style command. Reads all of standard input and
 * atomically replaces FILE with it, so that a pipeline may read and write the
 * same file:
 *
 * ```sh
 * jq .x config.json | npx @atomic-write/atomic-write config.json
 * jq .x config.json | deno run --allow-read --allow-write src/cli.ts config.json
 * jq .x config.json | bun src/cli.ts config.json
 * ```
 *
 * The shebang is Node's because the npm package's `bin` is the built
 * JavaScript of this file; Deno and Bun run it by name as above.
 *
 * Exit codes: 0 written, 1 the write failed (the file keeps its old content),
 * 2 usage error.
 *
 * @module
 */

import { readFileSync, realpathSync } from "node:fs";
import { AtomicWriteError, detectRuntime, writeFile } from "../mod.ts";
import type { Durability, WriteOptions } from "./options.ts";
import { VERSION } from "./version.ts";

/** One option: this table drives parsing, the error messages and USAGE. */
interface OptionSpec {
  short: string;
  long: string;
  /** The value's name in USAGE; absent for a flag without a value. */
  value?: string;
  help: string;
  /** Records the option; `flag` is how it was spelled, for messages. */
  set?: (options: WriteOptions, value: string, flag: string) => void;
  /** Or: stop parsing and do this instead of writing. */
  action?: "help" | "version";
}

const DURABILITIES: readonly Durability[] = ["full", "file", "none"];

const OPTIONS: readonly OptionSpec[] = [
  {
    short: "a",
    long: "append",
    help: "append the input to FILE's content instead",
    set: (options) => options.append = true,
  },
  {
    short: "m",
    long: "mode",
    value: "MODE",
    help: "permission bits in octal (600, 0640, 0o644);\n" +
      "default: keep FILE's, or 666 minus the umask",
    set: (options, value, flag) => options.mode = parseMode(value, flag),
  },
  {
    short: "d",
    long: "durability",
    value: "LEVEL",
    help: "full (default), file or none",
    set: (options, value, flag) => {
      if (!(DURABILITIES as string[]).includes(value)) {
        throw new UsageError(
          `${flag} expects full, file or none, got "${value}"`,
        );
      }
      options.durability = value as Durability;
    },
  },
  {
    short: "p",
    long: "create-parents",
    help: "create missing parent directories",
    set: (options) => options.createParents = true,
  },
  { short: "h", long: "help", help: "show this help and exit", action: "help" },
  {
    short: "V",
    long: "version",
    help: "show the version and exit",
    action: "version",
  },
];

function optionLines(): string {
  const rows = OPTIONS.map((o): [string, string] => [
    `-${o.short}, --${o.long}${o.value ? `=${o.value}` : ""}`,
    o.help,
  ]);
  rows.push([
    "    --",
    'end of options: the next argument is FILE,\neven if it starts with "-"',
  ]);
  const width = Math.max(...rows.map(([left]) => left.length)) + 3;
  return rows.map(([left, help]) =>
    `  ${left.padEnd(width)}${
      help.replaceAll("\n", `\n  ${" ".repeat(width)}`)
    }`
  ).join("\n");
}

const USAGE = `Usage: atomic-write [OPTION]... FILE

Reads standard input and atomically replaces FILE with it: a crash leaves the
old or the new content, never a torn file. FILE may also be the input's source
(sponge): it keeps its old content until all input has been read.

Options:
${optionLines()}

Short options may be bundled (-ap, -pm600). A value may be attached (-m600,
--mode=600) or be the next argument (-m 600, --mode 600). Options may also
follow FILE.

FILE "-" is refused: it would mean standard output, which is not a file that
can be replaced. Write ./- for a file named "-", and ./-h or -- -h for "-h".

Exit codes: 0 written, 1 write failed (FILE unchanged), 2 usage error.`;

/** Exit codes of the command. */
const EXIT = { ok: 0, writeFailed: 1, usage: 2 } as const;

class UsageError extends Error {}

interface Command {
  file: string;
  options: WriteOptions;
}

function parseMode(text: string, flag: string): number {
  const digits = text.replace(/^0o/i, "");
  if (!/^[0-7]{1,4}$/.test(digits)) {
    throw new UsageError(
      `${flag} expects octal permission bits, got "${text}"`,
    );
  }
  return parseInt(digits, 8);
}

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        previous[j] + 1,
        row[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = row;
  }
  return previous[b.length];
}

/** " (did you mean --append?)" when `name` is close to one long option. */
function suggestion(name: string): string {
  let best: OptionSpec | undefined;
  let bestDistance = Infinity;
  for (const option of OPTIONS) {
    const d = name.length >= 2 && option.long.startsWith(name)
      ? 0
      : distance(name, option.long);
    if (d < bestDistance) [best, bestDistance] = [option, d];
  }
  const close = bestDistance <= Math.max(1, Math.floor(name.length / 3));
  return best && close ? ` (did you mean --${best.long}?)` : "";
}

/**
 * Parses arguments like GNU getopt_long: options anywhere, bundled short
 * flags, `--` ends the options. Returns a command, or "help"/"version" as soon
 * as one of those is seen. Throws UsageError before anything is written.
 */
function parseArgs(args: readonly string[]): Command | "help" | "version" {
  const options: WriteOptions = {};
  const files: string[] = [];
  const needValue = (flag: string) => {
    throw new UsageError(`${flag} needs a value`);
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      files.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) {
      const equals = arg.indexOf("=");
      const flag = equals < 0 ? arg : arg.slice(0, equals);
      const inline = equals < 0 ? undefined : arg.slice(equals + 1);
      const option = OPTIONS.find((o) => `--${o.long}` === flag);
      if (!option) {
        throw new UsageError(
          `unknown option ${flag}${suggestion(flag.slice(2))}`,
        );
      }
      if (option.action) {
        // `--help=no` must not silently mean `--help`.
        if (inline !== undefined) {
          throw new UsageError(`${flag} takes no value, got "${inline}"`);
        }
        return option.action;
      }
      if (option.value) {
        option.set!(options, inline ?? args[++i] ?? needValue(flag), flag);
      } else if (inline !== undefined) {
        // `--append=false` must not silently mean `--append`.
        throw new UsageError(`${flag} takes no value, got "${inline}"`);
      } else {
        option.set!(options, "", flag);
      }
    } else if (arg.startsWith("-") && arg !== "-") {
      try {
        for (let j = 1; j < arg.length; j++) {
          const flag = `-${arg[j]}`;
          const option = OPTIONS.find((o) => o.short === arg[j]);
          if (!option) {
            const bundle = arg.length > 2 ? ` in ${arg}` : "";
            throw new UsageError(`unknown option ${flag}${bundle}`);
          }
          if (option.action) return option.action;
          if (option.value) {
            // The rest of the bundle is the value (-m600), else the next
            // argument (-m 600).
            const rest = arg.slice(j + 1);
            const value = rest !== "" ? rest : args[++i] ?? needValue(flag);
            option.set!(options, value, flag);
            break;
          }
          option.set!(options, "", flag);
        }
      } catch (error) {
        // `-append` is -a -p -p -e to getopt; say what was probably meant.
        if (error instanceof UsageError && arg.length > 2) {
          error.message += suggestion(arg.slice(1).split("=")[0]);
        }
        throw error;
      }
    } else {
      files.push(arg);
    }
  }
  if (files.length !== 1) {
    throw new UsageError(
      files.length === 0
        ? "missing FILE"
        : `expected one FILE, got ${files.length}`,
    );
  }
  const [file] = files;
  if (file === "") throw new UsageError("FILE must not be empty");
  if (file === "-") {
    throw new UsageError(
      'FILE "-" would mean standard output, which is not a file that can be ' +
        'replaced; write ./- for a file named "-"',
    );
  }
  return { file, options };
}

/**
 * Bun 1.4 drops a `--` that directly follows the script (oven-sh/bun#13984),
 * so `atomic-write -- -h` would show the help instead of writing "-h". On
 * Linux the kernel's copy of the command line still has it: put it back when
 * that copy ends with the script, `--` and exactly Bun's arguments. Elsewhere
 * (no /proc), Bun's arguments are used as they are.
 */
function bunArgs(argv: readonly string[]): string[] {
  const args = argv.slice(2);
  let raw: string[];
  try {
    raw = readFileSync("/proc/self/cmdline", "utf8").split("\0").slice(0, -1);
  } catch {
    return args;
  }
  const dash = raw.length - args.length - 1;
  const dropped = dash >= 2 && raw[dash] === "--" &&
    args.every((arg, k) => raw[dash + 1 + k] === arg) &&
    sameFile(raw[dash - 1], argv[1]);
  return dropped ? ["--", ...args] : args;
}

function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/** The runtime's standard input, arguments and output. */
function host() {
  if (detectRuntime() === "deno") {
    return {
      args: Deno.args,
      stdin: Deno.stdin.readable,
      print: (text: string) => console.log(text),
      printError: (text: string) => console.error(text),
      exit: (code: number) => Deno.exit(code),
    };
  }
  const process = (globalThis as unknown as {
    process: {
      argv: string[];
      stdin: AsyncIterable<Uint8Array>;
      exitCode: number;
    };
  }).process;
  return {
    args: detectRuntime() === "bun"
      ? bunArgs(process.argv)
      : process.argv.slice(2),
    stdin: process.stdin,
    print: (text: string) => console.log(text),
    printError: (text: string) => console.error(text),
    exit: (code: number) => {
      process.exitCode = code;
    },
  };
}

async function main(): Promise<void> {
  const io = host();
  let command: ReturnType<typeof parseArgs>;
  try {
    command = parseArgs(io.args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.printError(`atomic-write: ${error.message}\nTry 'atomic-write --help'.`);
    return io.exit(EXIT.usage);
  }
  if (command === "help") return io.print(USAGE);
  if (command === "version") return io.print(`atomic-write ${VERSION}`);
  try {
    await writeFile(command.file, io.stdin, command.options);
  } catch (error) {
    if (!(error instanceof AtomicWriteError)) throw error;
    // Only a failed directory fsync comes after the rename.
    const outcome = error.step === "sync-directory"
      ? "the file has the new content, but it may not survive a power cut"
      : "the file is unchanged";
    io.printError(
      `atomic-write: cannot write "${error.path}": step "${error.step}" failed` +
        `${error.code ? ` (${error.code})` : ""}; ${outcome}.\n` +
        error.message,
    );
    return io.exit(EXIT.writeFailed);
  }
}

// Deno and Bun report whether this is the entry module; Node 20 does not.
if ((import.meta as { main?: boolean }).main !== false) await main();
