/**
 * Real browsers for OPFS tests and benchmarks: a local server for bundled
 * pages (OPFS needs a secure context: 127.0.0.1, never file://) and launchers
 * for Chromium (playwright-core), Firefox ESR (puppeteer-core over WebDriver
 * BiDi) and WebKitGTK (MiniBrowser under Xvfb; it cannot be scripted, so
 * every page reports by POSTing its results). Debian's browsers only.
 */

import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";

/** What a page posts: per context, its case results (or an error text). */
export type Results = Record<
  string,
  { name: string; status: string; detail?: string }[] | string
>;

/** The engines and where Debian installs them. */
export const ENGINES = {
  chromium: "/usr/bin/chromium",
  firefox: "/usr/bin/firefox-esr",
  webkit: "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser",
} as const;

/** An engine name. */
export type Engine = keyof typeof ENGINES;

/** Why an engine cannot run here, or undefined. */
export function engineMissing(engine: Engine): string | undefined {
  if (!fs.existsSync(ENGINES[engine])) {
    return `${ENGINES[engine]} is not installed`;
  }
  if (engine === "webkit" && !fs.existsSync("/usr/bin/xvfb-run")) {
    return "xvfb-run is not installed";
  }
  return undefined;
}

const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Per-launch settings. */
export interface OpenOptions {
  /** Chromium: lower the origin's quota through CDP. */
  quotaBytes?: number;
  /** Firefox: extra preferences. */
  firefoxPrefs?: Record<string, unknown>;
  /** How long to wait for the page's results. */
  timeout?: number;
  /** Use (and keep) this profile directory (WebKit: its HOME). */
  profile?: string;
  /**
   * With `profile`: SIGKILL the whole browser after the results (WebKit's
   * process group is always SIGKILLed: MiniBrowser has no other way out).
   */
  kill?: boolean;
}

/** A running server plus a way to open its pages in each engine. */
export interface Harness {
  origin: string;
  /** The modules the entries were bundled from (absolute paths). */
  inputs: string[];
  open(engine: Engine, page: string, options?: OpenOptions): Promise<Results>;
  close(): void;
}

/** What else the server serves, and what the entries load from it. */
export interface HarnessOptions {
  /** Scripts served as they are, by URL path. */
  files?: Record<string, string>;
  /**
   * Import specifiers (exactly as written) that are not bundled into the
   * entries but loaded at run time from these URL paths (of `files`): the
   * code under test, bundled on its own.
   */
  imports?: Record<string, string>;
}

/**
 * Bundles `entries` (name to .ts file) for the browser and serves them, plus
 * HTML `pages` (path to the script name they load).
 */
export async function startHarness(
  entries: Record<string, string>,
  pages: Record<string, string>,
  port: number,
  options: HarnessOptions = {},
): Promise<Harness> {
  const esbuild = await import("esbuild");
  const imports = options.imports ?? {};
  const built = await esbuild.build({
    entryPoints: entries,
    bundle: true,
    format: "esm",
    platform: "browser",
    // The harness's own code uses `await using`, which WebKit cannot parse.
    target: "es2022",
    write: false,
    outdir: "/",
    metafile: true,
    plugins: [{
      name: "imports-at-run-time",
      setup(build) {
        build.onResolve(
          { filter: /.*/ },
          (args) =>
            Object.hasOwn(imports, args.path)
              ? { path: imports[args.path], external: true }
              : undefined,
        );
      },
    }],
  });
  const files = new Map<string, string>(Object.entries(options.files ?? {}));
  for (const output of built.outputFiles) {
    files.set(`/${path.basename(output.path)}`, output.text);
  }
  const inputs = Object.keys(built.metafile.inputs).map((input) =>
    path.resolve(input)
  );
  for (const [page, script] of Object.entries(pages)) {
    files.set(
      page,
      `<!doctype html><title>atomic-write</title><script type="module" src="/${script}"></script>`,
    );
  }
  const origin = `http://127.0.0.1:${port}`;
  let progress: string[] = [];
  let waiting: ((results: Results) => void) | undefined;
  const server = http.createServer((request, response) => {
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
    const file = files.get(new URL(request.url ?? "/", origin).pathname);
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
    server.listen(port, "127.0.0.1", resolve)
  );

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

  async function inChromium(url: string, options: OpenOptions) {
    const { chromium } = await import("playwright-core");
    const profile = options.profile ??
      fs.mkdtempSync(path.join(os.tmpdir(), "aw-chromium-"));
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: ENGINES.chromium,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    try {
      const tab = await browser.newPage();
      if (options.quotaBytes !== undefined) {
        const cdp = await browser.newCDPSession(tab);
        await cdp.send("Storage.overrideQuotaForOrigin", {
          origin,
          quotaSize: options.quotaBytes,
        });
      }
      const results = nextResults(options.timeout ?? 90_000);
      await tab.goto(url);
      return await results;
    } finally {
      if (options.kill) {
        // A crash, not a shutdown: every process of this profile dies at once.
        spawnSync("pkill", ["-KILL", "-f", `--user-data-dir=${profile}`]);
        await browser.close().catch(() => {});
      } else {
        await browser.close();
      }
      if (!options.profile) {
        fs.rmSync(profile, { recursive: true, force: true });
      }
    }
  }

  async function inFirefox(url: string, options: OpenOptions) {
    const puppeteer = (await import("puppeteer-core")).default;
    const browser = await puppeteer.launch({
      browser: "firefox",
      executablePath: ENGINES.firefox,
      headless: true,
      extraPrefsFirefox: options.firefoxPrefs ?? {},
      ...(options.profile ? { userDataDir: options.profile } : {}),
    });
    try {
      const results = nextResults(options.timeout ?? 90_000);
      await (await browser.newPage()).goto(url);
      return await results;
    } finally {
      if (options.kill && options.profile) {
        spawnSync("pkill", ["-KILL", "-f", options.profile]);
        await browser.close().catch(() => {});
      } else {
        await browser.close();
      }
    }
  }

  async function inWebKit(url: string, options: OpenOptions) {
    const home = options.profile ??
      fs.mkdtempSync(path.join(os.tmpdir(), "aw-webkit-"));
    const results = nextResults(options.timeout ?? 90_000);
    const browser = spawn("xvfb-run", [
      "-a",
      ENGINES.webkit,
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
      return await results;
    } finally {
      try {
        process.kill(-browser.pid!, "SIGKILL");
      } catch { /* already gone */ }
      if (!options.profile) fs.rmSync(home, { recursive: true, force: true });
    }
  }

  const launchers = {
    chromium: inChromium,
    firefox: inFirefox,
    webkit: inWebKit,
  };
  return {
    origin,
    inputs,
    open: (engine, page, options = {}) =>
      launchers[engine](`${origin}${page}`, options),
    close: () => server.close(),
  };
}
