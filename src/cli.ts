#!/usr/bin/env -S deno run --allow-read --allow-write
/**
 * `atomic-write`: a `sponge`-style command. Reads all of standard input and
 * atomically replaces FILE with it, so that a pipeline may read and write the
 * same file:
 *
 * ```sh
 * jq .x config.json | deno run --allow-read --allow-write src/cli.ts config.json
 * jq .x config.json | bun src/cli.ts config.json
 * ```
 *
 * Exit codes: 0 written, 1 the write failed (the file keeps its old content),
 * 2 usage error.
 *
 * @module
 */

import { AtomicWriteError, detectRuntime, writeFile } from "../mod.ts";
import type { Durability, WriteOptions } from "./options.ts";
import { VERSION } from "./version.ts";

const USAGE = `Usage: atomic-write [OPTIONS] FILE

Reads standard input and atomically replaces FILE with it: a crash leaves the
old or the new content, never a torn file. FILE may also be the input's source
(sponge): it keeps its old content until all input has been read.

Options:
  --append               append the input to FILE's content instead
  --mode MODE            permission bits in octal (600, 0640, 0o644);
                         default: keep FILE's, or 666 minus the umask
  --durability LEVEL     full (default), file or none
  --create-parents       create missing parent directories
  --help                 show this help
  --version              show the version

Exit codes: 0 written, 1 write failed (FILE unchanged), 2 usage error.`;

/** Exit codes of the command. */
const EXIT = { ok: 0, writeFailed: 1, usage: 2 } as const;

class UsageError extends Error {}

interface Command {
  file: string;
  options: WriteOptions;
}

function parseMode(text: string): number {
  const digits = text.replace(/^0o/i, "");
  if (!/^[0-7]{1,4}$/.test(digits)) {
    throw new UsageError(`--mode expects octal permission bits, got "${text}"`);
  }
  return parseInt(digits, 8);
}

/** Parses arguments; returns a command, or "help"/"version". */
function parseArgs(args: string[]): Command | "help" | "version" {
  const options: WriteOptions = {};
  const files: string[] = [];
  let onlyFiles = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (onlyFiles || !arg.startsWith("--")) {
      files.push(arg);
      continue;
    }
    const [flag, inlineValue] = arg.split(/=(.*)/s, 2);
    const value = () => {
      const next = inlineValue ?? args[++i];
      if (next === undefined) throw new UsageError(`${flag} needs a value`);
      return next;
    };
    // `--append=false` must not silently mean `--append`.
    const noValue = () => {
      if (inlineValue !== undefined) {
        throw new UsageError(`${flag} takes no value, got "${inlineValue}"`);
      }
    };
    switch (flag) {
      case "--":
        noValue();
        onlyFiles = true;
        break;
      case "--help":
        noValue();
        return "help";
      case "--version":
        noValue();
        return "version";
      case "--append":
        noValue();
        options.append = true;
        break;
      case "--create-parents":
        noValue();
        options.createParents = true;
        break;
      case "--mode":
        options.mode = parseMode(value());
        break;
      case "--durability": {
        const level = value();
        if (!["full", "file", "none"].includes(level)) {
          throw new UsageError(
            `--durability expects full, file or none, got "${level}"`,
          );
        }
        options.durability = level as Durability;
        break;
      }
      default:
        throw new UsageError(`unknown option ${flag}`);
    }
  }
  if (files.length !== 1) {
    throw new UsageError(
      files.length === 0
        ? "missing FILE"
        : `expected one FILE, got ${files.length}`,
    );
  }
  return { file: files[0], options };
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
    args: process.argv.slice(2),
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
