/**
 * The OPFS backend in real browsers: Chromium (playwright-core), Firefox ESR
 * (puppeteer-core over WebDriver BiDi) and WebKitGTK (MiniBrowser under Xvfb),
 * each running the OPFS cases in a page and in a dedicated worker. Runs in
 * the Node pass only (one driver process is enough); an engine that is not
 * installed is skipped with the reason.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { ROOT, RUNTIME } from "./_helpers.ts";

const PORT = 8734;
const CHROMIUM = "/usr/bin/chromium";
const FIREFOX = "/usr/bin/firefox-esr";
const MINIBROWSER = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";

type Results = Record<
  string,
  { name: string; status: string; detail?: string }[] | string
>;

const onlyNode = RUNTIME === "node"
  ? undefined
  : "browser tests run once, in the Node pass";
let server: http.Server | undefined;
let waiting: ((results: Results) => void) | undefined;
const files = new Map<string, string>();
/** Progress lines of the current engine, shown if it times out. */
let progress: string[] = [];

before(async () => {
  if (onlyNode) return;
  const esbuild = await import("esbuild");
  const built = await esbuild.build({
    entryPoints: {
      page: path.join(ROOT, "tests/browser/_page.ts"),
      worker: path.join(ROOT, "tests/browser/_worker.ts"),
    },
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    outdir: "/",
  });
  for (const output of built.outputFiles) {
    files.set(`/${path.basename(output.path)}`, output.text);
  }
  files.set(
    "/",
    `<!doctype html><title>opfs cases</title><script type="module" src="/page.js"></script>`,
  );
  server = http.createServer((request, response) => {
    if (request.method === "POST" && request.url === "/log") {
      let body = "";
      request.on("data", (chunk) => body += chunk);
      request.on("end", () => {
        progress.push(body);
        response.end("ok");
      });
      return;
    }
    if (request.method === "POST" && request.url === "/results") {
      let body = "";
      request.on("data", (chunk) => body += chunk);
      request.on("end", () => {
        response.end("ok");
        waiting?.(JSON.parse(body));
      });
      return;
    }
    const file = files.get(request.url ?? "/");
    if (file === undefined) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, {
      "content-type": request.url === "/" ? "text/html" : "text/javascript",
    });
    response.end(file);
  });
  await new Promise<void>((resolve) =>
    server!.listen(PORT, "127.0.0.1", resolve)
  );
});

after(() => server?.close());

function nextResults(timeout: number): Promise<Results> {
  progress = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      const last = progress.slice(-3).join(" | ");
      reject(new Error(`no results in time; last progress: ${last}`));
    }, timeout);
    waiting = (results) => {
      clearTimeout(timer);
      resolve(results);
    };
  });
}

function report(engine: string, results: Results): void {
  for (const context of ["page", "worker"]) {
    const outcome = results[context];
    assert.ok(Array.isArray(outcome), `${engine} ${context}: ${outcome}`);
    const passed = outcome.filter((r) => r.status === "passed").length;
    console.log(
      `opfs, ${engine} ${context}: ${passed} of ${outcome.length} cases passed`,
    );
    for (const failure of outcome.filter((r) => r.status === "failed")) {
      console.log(`  FAILED ${failure.name}: ${failure.detail}`);
    }
    assert.equal(passed, outcome.length, `${engine} ${context}`);
  }
}

const url = `http://127.0.0.1:${PORT}/`;
const missing = (file: string) =>
  fs.existsSync(file) ? undefined : `${file} is not installed`;

test("OPFS cases in Chromium (page and worker)", {
  skip: onlyNode ?? missing(CHROMIUM) ?? false,
  timeout: 120_000,
}, async () => {
  const { chromium } = await import("playwright-core");
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "aw-chromium-"));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    const results = nextResults(90_000);
    await (await browser.newPage()).goto(url);
    report("chromium", await results);
  } finally {
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
});

test("OPFS cases in Firefox ESR (page and worker)", {
  skip: onlyNode ?? missing(FIREFOX) ?? false,
  timeout: 120_000,
}, async () => {
  const puppeteer = (await import("puppeteer-core")).default;
  const browser = await puppeteer.launch({
    browser: "firefox",
    executablePath: FIREFOX,
    headless: true,
  });
  try {
    const results = nextResults(90_000);
    await (await browser.newPage()).goto(url);
    report("firefox", await results);
  } finally {
    await browser.close();
  }
});

test("OPFS cases in WebKitGTK (page and worker)", {
  skip: onlyNode ?? missing(MINIBROWSER) ?? missing("/usr/bin/xvfb-run") ??
    false,
  timeout: 120_000,
}, async () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "aw-webkit-"));
  const results = nextResults(90_000);
  const browser = spawn("xvfb-run", [
    "-a",
    MINIBROWSER,
    "--features=+FileSystem,+FileSystemWritableStream,+AccessHandle,+StorageAPI,+StorageAPIEstimate",
    url,
  ], {
    env: {
      ...process.env,
      HOME: home,
      XDG_DATA_HOME: path.join(home, "data"),
      XDG_CACHE_HOME: path.join(home, "cache"),
      XDG_CONFIG_HOME: path.join(home, "config"),
    },
    stdio: "ignore",
    detached: true,
  });
  try {
    report("webkit", await results);
  } finally {
    try {
      process.kill(-browser.pid!, "SIGKILL");
    } catch { /* already gone */ }
    fs.rmSync(home, { recursive: true, force: true });
  }
});
