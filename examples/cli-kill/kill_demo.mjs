// The terminal side of the crash demo: a writer process saving one file in a
// loop is SIGKILLed at a random moment, ROUNDS times per writer, and after
// each kill the file is checked against its own header (length, checksum).
// atomic-write must leave the old or the new version, whole, every time; a
// plain fs.writeFileSync (truncate, then write in place) is shown beside it.
//   node examples/cli-kill/kill_demo.mjs [ROUNDS]
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const rounds = Number(process.argv[2] ?? 30);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aw-kill-demo-"));

// Node runs the writer as plain JavaScript: bundled once here.
await build({
  entryPoints: {
    writer: path.join(here, "writer.ts"),
    content: path.join(here, "../opfs/_content.ts"),
  },
  bundle: true,
  format: "esm",
  platform: "node",
  outdir: dir,
  outExtension: { ".js": ".mjs" },
  logLevel: "error",
});
const { verdict } = await import(path.join(dir, "content.mjs"));

/** Starts a writer, kills it at a random moment, returns the file's verdict. */
async function killOnce(mode, file) {
  const child = spawn(process.execPath, [
    path.join(dir, "writer.mjs"),
    mode,
    file,
  ], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise((resolve, reject) => {
    child.stdout.once("data", resolve);
    child.once("exit", (code) => reject(new Error(`writer exited: ${code}`)));
  });
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
  return verdict(new Uint8Array(fs.readFileSync(file)));
}

/** ROUNDS kills of one writer; its line of the summary. */
async function run(mode) {
  const file = path.join(dir, `${mode}.txt`);
  const counts = { whole: 0, torn: 0, empty: 0 };
  for (let round = 0; round < rounds; round++) {
    counts[(await killOnce(mode, file)).kind]++;
    process.stdout.write(".");
  }
  const bad = counts.torn + counts.empty;
  return mode === "atomic"
    ? `atomic-write: ${counts.whole}/${rounds} whole (old or new)`
    : `plain write (fs.writeFileSync in place): ${counts.whole}/${rounds} whole, ${bad} torn/empty (${counts.torn} torn, ${counts.empty} empty)`;
}

const started = Date.now();
let lines;
try {
  // Both writers at once (each in its own file): half the wait.
  lines = await Promise.all([run("atomic"), run("plain")]);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
console.log();
for (const line of lines) console.log(line);
console.log(
  `(${rounds} SIGKILLs per writer, ${
    ((Date.now() - started) / 1000).toFixed(1)
  } s)`,
);
