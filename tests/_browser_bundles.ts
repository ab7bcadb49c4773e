/**
 * The library as a browser user's bundler builds it from the installed
 * package (`_packed.ts`): the root `@atomic-write/atomic-write` (which must
 * resolve through the package's `browser` condition) and `./opfs`, each
 * bundled by esbuild and by Vite with their default settings (esbuild:
 * `bundle`, `format: "esm"`, `platform: "browser"`, its default target; Vite:
 * a library build of one entry). Each bundle records the modules it was
 * built from, so a test can tell a bundle of the package from one of this
 * repository's sources.
 */

import * as fs from "node:fs";
import * as path from "node:path";
import type { Consumer } from "./_packed.ts";

/** The package's browser entries, by short name. */
export const LIBRARY_ENTRIES = {
  root: "@atomic-write/atomic-write",
  opfs: "@atomic-write/atomic-write/opfs",
} as const;

/** A short entry name. */
export type LibraryEntry = keyof typeof LIBRARY_ENTRIES;

/** The bundlers users build with. */
export type Bundler = "esbuild" | "vite";

/** One bundle of one entry. */
export interface LibraryBundle {
  bundler: Bundler;
  entry: LibraryEntry;
  /** Where the test server serves it: `/lib/BUNDLER-ENTRY.js`. */
  url: string;
  code: string;
  /** The modules it was built from, relative to the consumer project. */
  inputs: string[];
}

/** The URL path a bundle is served at. */
export function libraryUrl(bundler: Bundler, entry: LibraryEntry): string {
  return `/lib/${bundler}-${entry}.js`;
}

/** A consumer module that re-exports the whole entry, as an app imports it. */
function entryFile(consumer: Consumer, entry: LibraryEntry): string {
  const file = path.join(consumer.directory, `aw-${entry}.js`);
  fs.writeFileSync(file, `export * from "${LIBRARY_ENTRIES[entry]}";\n`);
  return file;
}

/**
 * esbuild's bundle of `entry` in the consumer project; `alias` only to show
 * that a bundle of this repository's sources is told apart.
 */
export async function withEsbuild(
  consumer: Consumer,
  entry: LibraryEntry,
  alias?: Record<string, string>,
): Promise<LibraryBundle> {
  const esbuild = await import("esbuild");
  const built = await esbuild.build({
    entryPoints: [entryFile(consumer, entry)],
    absWorkingDir: consumer.directory,
    bundle: true,
    format: "esm",
    platform: "browser",
    write: false,
    outfile: path.join(consumer.directory, "out.js"),
    metafile: true,
    logLevel: "error",
    ...(alias ? { alias } : {}),
  });
  return {
    bundler: "esbuild",
    entry,
    url: libraryUrl("esbuild", entry),
    code: built.outputFiles[0].text,
    inputs: Object.keys(built.metafile.inputs),
  };
}

interface ViteChunk {
  type: string;
  code?: string;
  moduleIds?: string[];
}

async function withVite(
  consumer: Consumer,
  entry: LibraryEntry,
): Promise<LibraryBundle> {
  const vite = await import("vite");
  const built = await vite.build({
    root: consumer.directory,
    configFile: false,
    logLevel: "silent",
    build: {
      lib: { entry: entryFile(consumer, entry), formats: ["es"] },
      write: false,
    },
  });
  const output = (Array.isArray(built) ? built[0] : built) as {
    output: ViteChunk[];
  };
  const chunks = output.output.filter((chunk) => chunk.type === "chunk");
  if (chunks.length !== 1) {
    throw new Error(`Vite made ${chunks.length} chunks of ${entry}`);
  }
  return {
    bundler: "vite",
    entry,
    url: libraryUrl("vite", entry),
    code: chunks[0].code!,
    inputs: chunks[0].moduleIds!.map((id) =>
      path.relative(consumer.directory, id)
    ),
  };
}

/** Every entry bundled by every bundler. */
export async function bundleLibrary(
  consumer: Consumer,
): Promise<LibraryBundle[]> {
  const bundles: LibraryBundle[] = [];
  for (const entry of Object.keys(LIBRARY_ENTRIES) as LibraryEntry[]) {
    bundles.push(await withEsbuild(consumer, entry));
    bundles.push(await withVite(consumer, entry));
  }
  return bundles;
}

const PACKAGE_DIST = "node_modules/@atomic-write/atomic-write/dist/";

/**
 * What is wrong with a bundle: a module from anywhere but the installed
 * package's dist/ (this repository's sources, say), a Deno, Bun or Node
 * backend, or a `node:` import.
 */
export function bundleProblems(bundle: LibraryBundle): string[] {
  const problems: string[] = [];
  const own = `aw-${bundle.entry}.js`;
  const library = bundle.inputs.filter((input) => input !== own);
  if (library.length === 0) problems.push("no module of the package");
  for (const input of library) {
    if (!input.startsWith(PACKAGE_DIST)) {
      problems.push(`built from ${input}, not the package's dist/`);
    }
    if (/(?:backends\/(?:deno|bun|node)|_select|auto)\.[jt]s$/.test(input)) {
      problems.push(`holds ${input}, not for browsers`);
    }
  }
  if (!library.some((input) => /\/backends\/opfs\.[jt]s$/.test(input))) {
    problems.push("lacks the OPFS backend");
  }
  const backend = /\bcreate(?:Deno|Bun|Node)Backend\b/.exec(bundle.code);
  if (backend) problems.push(`holds ${backend[0]}`);
  const nodeImport = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\(\s*)["']node:/
    .exec(bundle.code);
  if (nodeImport) problems.push(`imports a node: module: ${nodeImport[0]}`);
  return problems;
}
