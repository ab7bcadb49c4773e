// The npm package's build (`npm run build`, run by `prepack`): tsc emits ES
// module JavaScript, .d.ts and declaration maps from the TypeScript sources
// into dist/ (tsconfig.build.json), then this checks that what it emitted
// loads where the package promises to: every file parses under the Node that
// runs the build (Node 20 in CI), and no `using` declaration is left, which
// Node 20 and WebKit cannot parse even where a newer Node can.
//
// tsc only emits (`noCheck`): type checking is `deno check`'s job, since the
// sources name Deno, Bun and web globals that tsc has no types for here.
// typescript is pinned to 6.0, the last compiler written in TypeScript: 7.x
// (npm's latest) is the Go port, new, and its declaration emit unproven here.
import { execFileSync } from "node:child_process";
import { chmodSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

process.chdir(new URL("..", import.meta.url).pathname);
rmSync("dist", { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], {
  stdio: "inherit",
});

const problems = [];
const files = readdirSync("dist", { recursive: true })
  .filter((name) => name.endsWith(".js"))
  .map((name) => join("dist", name));
for (const file of files) {
  try {
    execFileSync(process.execPath, ["--check", file], { stdio: "pipe" });
  } catch (error) {
    problems.push(`${file} does not parse:\n${error.stderr}`);
  }
  if (/^\s*(?:await\s+)?using\s+[\w$]+\s*=/m.test(readFileSync(file, "utf8"))) {
    problems.push(`${file} has a \`using\` declaration`);
  }
}

// The package's bin: npm links it as is, so it must start with Node's shebang.
const cli = "dist/src/cli.js";
if (!readFileSync(cli, "utf8").startsWith("#!/usr/bin/env node\n")) {
  problems.push(`${cli} does not start with #!/usr/bin/env node`);
}
chmodSync(cli, 0o755);

if (problems.length > 0 || files.length === 0) {
  console.error(problems.join("\n") || "tsc emitted no JavaScript");
  process.exit(1);
}
console.log(
  `dist/: ${files.length} JavaScript files, each parsed by Node ${process.version}`,
);
