/**
 * The OPFS notes demo, driven in real Chromium: type, reload, the text is
 * still there; a screenshot is saved to .test-results/opfs-demo.png.
 */

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { nameWithSkipReason, ROOT, RUNTIME } from "./_helpers.ts";

const CHROMIUM = "/usr/bin/chromium";

const NAME = "the OPFS notes demo keeps what was typed across a reload";
const skip = RUNTIME !== "node"
  ? "browser tests run once, in the Node pass"
  : fs.existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is not installed`;

test(nameWithSkipReason(NAME, skip), { skip, timeout: 120_000 }, async () => {
  const { serveDemo } = await import(
    path.join(ROOT, "examples/opfs/serve.mjs")
  );
  const server = await serveDemo(8736);
  const { chromium } = await import("playwright-core");
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "aw-demo-"));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    const page = await browser.newPage();
    await page.goto("http://127.0.0.1:8736/");
    await page.waitForSelector("body[data-ready=true]");
    const text = "Groceries:\n- bread\n- oat milk\n- ümlauts & emoji 🍞";
    await page.locator("#notes").pressSequentially(text, { delay: 5 });
    await page.waitForFunction(
      (length) =>
        document.querySelector("#status")?.textContent?.includes(
          `Saved ${length} characters`,
        ),
      text.length,
    );
    await page.reload();
    await page.waitForSelector("body[data-ready=true]");
    assert.equal(await page.locator("#notes").inputValue(), text);
    const shots = path.join(ROOT, ".test-results");
    fs.mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: path.join(shots, "opfs-demo.png") });
  } finally {
    await browser.close();
    server.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
});
