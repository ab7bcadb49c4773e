/**
 * The OPFS backend in real browsers: Chromium (playwright-core), Firefox ESR
 * (puppeteer-core over WebDriver BiDi) and WebKitGTK (MiniBrowser under
 * Xvfb). Each engine runs the OPFS cases in a page and in a dedicated worker,
 * then the engine traps (three writing contexts, a worker terminated
 * mid-write), and Chromium and Firefox a quota failure. Runs in the Node pass
 * only (one driver process is enough); an engine that is not installed is
 * skipped with the reason.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { after, before, test } from "node:test";
import { ROOT, RUNTIME } from "./_helpers.ts";

const PORT = 8734;
const ORIGIN = `http://127.0.0.1:${PORT}`;
const CHROMIUM = "/usr/bin/chromium";
const FIREFOX = "/usr/bin/firefox-esr";
const MINIBROWSER = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

type CaseResult = { name: string; status: string; detail?: string };
type Results = Record<string, CaseResult[] | string>;

const onlyNode = RUNTIME === "node"
  ? undefined
  : "browser tests run once, in the Node pass";
let server: http.Server | undefined;
let waiting: ((results: Results) => void) | undefined;
const files = new Map<string, string>();
/** Progress lines of the current page, shown if it times out. */
let progress: string[] = [];

const html = (script: string) =>
  `<!doctype html><title>atomic-write</title><script type="module" src="/${script}"></script>`;

before(async () => {
  if (onlyNode) return;
  const esbuild = await import("esbuild");
  const built = await esbuild.build({
    entryPoints: {
      page: path.join(ROOT, "tests/browser/_page.ts"),
      worker: path.join(ROOT, "tests/browser/_worker.ts"),
      traps: path.join(ROOT, "tests/browser/_traps.ts"),
      trap_worker: path.join(ROOT, "tests/browser/_trap_worker.ts"),
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
  files.set("/", html("page.js"));
  files.set("/traps", html("traps.js"));
  server = http.createServer((request, response) => {
    if (request.method === "POST") {
      let body = "";
      request.on("data", (chunk) => body += chunk);
      request.on("end", () => {
        response.end("ok");
        if (request.url === "/log") progress.push(body);
        else waiting?.(JSON.parse(body));
      });
      return;
    }
    const file = files.get(new URL(request.url ?? "/", ORIGIN).pathname);
    if (file === undefined) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, {
      "content-type": file.startsWith("<!doctype")
        ? "text/html"
        : "text/javascript",
    });
    response.end(file);
  });
  await new Promise<void>((resolve) =>
    server!.listen(PORT, "127.0.0.1", resolve)
  );
});

after(() => server?.close());

function nextResults(timeout = 90_000): Promise<Results> {
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

/** Logs and asserts every case of every context in `results`. */
function report(engine: string, results: Results): void {
  for (const [context, outcome] of Object.entries(results)) {
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

const missing = (file: string) =>
  fs.existsSync(file) ? undefined : `${file} is not installed`;

/** Opens `page` in Chromium and returns what it posted. */
async function inChromium(page: string, quotaBytes?: number): Promise<Results> {
  const { chromium } = await import("playwright-core");
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "aw-chromium-"));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  try {
    const tab = await browser.newPage();
    if (quotaBytes !== undefined) {
      const cdp = await browser.newCDPSession(tab);
      await cdp.send("Storage.overrideQuotaForOrigin", {
        origin: ORIGIN,
        quotaSize: quotaBytes,
      });
    }
    const results = nextResults();
    await tab.goto(`${ORIGIN}${page}`);
    return await results;
  } finally {
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

/** Opens `page` in Firefox ESR and returns what it posted. */
async function inFirefox(
  page: string,
  prefs: Record<string, unknown> = {},
): Promise<Results> {
  const puppeteer = (await import("puppeteer-core")).default;
  const browser = await puppeteer.launch({
    browser: "firefox",
    executablePath: FIREFOX,
    headless: true,
    extraPrefsFirefox: prefs,
  });
  try {
    const results = nextResults();
    await (await browser.newPage()).goto(`${ORIGIN}${page}`);
    return await results;
  } finally {
    await browser.close();
  }
}

/** Opens `page` in WebKitGTK's MiniBrowser and returns what it posted. */
async function inWebKit(page: string): Promise<Results> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "aw-webkit-"));
  const results = nextResults();
  const browser = spawn("xvfb-run", [
    "-a",
    MINIBROWSER,
    "--features=+FileSystem,+FileSystemWritableStream,+AccessHandle,+StorageAPI,+StorageAPIEstimate",
    `${ORIGIN}${page}`,
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
    return await results;
  } finally {
    try {
      process.kill(-browser.pid!, "SIGKILL");
    } catch { /* already gone */ }
    fs.rmSync(home, { recursive: true, force: true });
  }
}

const engines = [
  {
    name: "chromium",
    file: CHROMIUM,
    open: (page: string) => inChromium(page),
  },
  { name: "firefox", file: FIREFOX, open: (page: string) => inFirefox(page) },
  { name: "webkit", file: MINIBROWSER, open: inWebKit },
];

for (const engine of engines) {
  const skip = onlyNode ?? missing(engine.file) ??
    (engine.name === "webkit" ? missing("/usr/bin/xvfb-run") : undefined) ??
    false;
  test(`OPFS cases in ${engine.name} (page and worker)`, {
    skip,
    timeout: 120_000,
  }, async () => report(engine.name, await engine.open("/")));
  test(`OPFS engine traps in ${engine.name}`, {
    skip,
    timeout: 120_000,
  }, async () => report(engine.name, await engine.open("/traps")));
}

test(
  "OPFS quota error in chromium",
  {
    skip: onlyNode ?? missing(CHROMIUM) ?? false,
    timeout: 120_000,
  },
  async () =>
    report("chromium", await inChromium("/traps?suite=quota", 4 * 1024 * 1024)),
);

test("OPFS quota error in firefox", {
  skip: onlyNode ?? missing(FIREFOX) ?? false,
  timeout: 120_000,
}, async () =>
  report(
    "firefox",
    await inFirefox("/traps?suite=quota", {
      "dom.quotaManager.temporaryStorage.fixedLimit": 4096,
    }),
  ));
