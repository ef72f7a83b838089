// Drive the sinkd dashboard in headless Chromium (Debian's /usr/bin/chromium
// through playwright-core from third_party/node_modules).
//
//   node dashboard.mjs URL SCREENSHOT [TOKEN]
//
// Protocol with the test on stdin/stdout, one JSON object per line:
//   -> {"step":"loaded", "shown":{...}}       page loaded, numbers shown
//   <- {"sent": N}                            the test sent N more check-ins
//   -> {"step":"live", "shown":{...}, "ticks":K}  live counter rose by >= N
//   -> {"step":"filtered", "shown":{...}}     with SINKD_E2E_FILTER_DOMAIN set
//   -> {"step":"done", "errors":[...], "screenshot":PATH}
import { createInterface } from "node:readline";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const [url, shot, token] = process.argv.slice(2);
if (!url || !shot) {
  console.error("usage: node dashboard.mjs URL SCREENSHOT [TOKEN]");
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const thirdParty = process.env.SINKD_THIRD_PARTY_DIR ||
  resolve(here, "../../third_party/node_modules");
const { chromium } = await import(pathToFileURL(join(thirdParty, "playwright-core/index.mjs")).href);

const rl = createInterface({ input: process.stdin });
const lines = rl[Symbol.asyncIterator]();
const say = o => process.stdout.write(JSON.stringify(o) + "\n");
const profile = mkdtempSync(join(tmpdir(), "sinkd-chromium-"));
const errors = [];
let browser;
try {
  // A fresh profile directory per run (Playwright's way of --user-data-dir).
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    timeout: 60000,
    viewport: { width: 1400, height: 1600 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = browser.pages()[0] || await browser.newPage();
  page.setDefaultTimeout(30000);
  page.on("console", m => { if (m.type() === "error" || m.type() === "warning") errors.push(`console ${m.type()}: ${m.text()}`); });
  page.on("pageerror", e => errors.push(`page error: ${e.message}`));
  page.on("requestfailed", r => { if (!r.url().includes("/api/v1/live")) errors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`); });
  page.on("response", r => { if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.url()}`); });
  // Any request leaving the sinkd origin is a failure (works offline).
  const origin = new URL(url).origin;
  await page.route("**/*", route => {
    if (!route.request().url().startsWith(origin)) {
      errors.push(`off-origin request: ${route.request().url()}`);
      return route.abort();
    }
    return route.continue();
  });
  await page.goto(url + (token ? `#token=${encodeURIComponent(token)}` : ""));
  await page.waitForSelector("body[data-loaded]", { state: "attached" });
  await page.waitForFunction(() => Number(document.body.dataset.liveTicks || 0) >= 1);

  const shown = () => page.evaluate(() => {
    const num = id => Number(document.getElementById(id).textContent.replace(/,/g, ""));
    const table = id => Object.fromEntries([...document.querySelectorAll(`#${id} tr`)]
      .filter(tr => tr.children[0].dataset.key !== undefined)
      .map(tr => [tr.children[0].dataset.key, Number(tr.children[1].dataset.count)]));
    return {
      live_checkins: num("live-checkins"), live_dns: num("live-dns"),
      range_checkins: num("range-checkins"), range_dns: num("range-dns"),
      population: num("population-now"), drops: num("drops-total"),
      health: document.getElementById("health").dataset.ready,
      top_domains: table("top-domains"), top_families: table("top-families"),
      events_rows: document.querySelectorAll("#events-table tr").length,
      shapes: Object.fromEntries([...document.querySelectorAll("#shapes-table tr")]
        .filter(tr => tr.children[0].dataset.shape !== undefined)
        .map(tr => [tr.children[0].dataset.shape, Number(tr.children[3].dataset.count)])),
      charts: document.querySelectorAll(".uplot").length,
    };
  });
  say({ step: "loaded", shown: await shown() });

  const msg = JSON.parse((await lines.next()).value);
  const before = await page.evaluate(() => Number(document.getElementById("live-checkins").textContent.replace(/,/g, "")));
  await page.waitForFunction(([b, n]) =>
    Number(document.getElementById("live-checkins").textContent.replace(/,/g, "")) >= b + n,
    [before, msg.sent]);
  // The live counter moved; the panels refresh a second later.
  const loadedAt = await page.evaluate(() => Number(document.body.dataset.loaded));
  await page.waitForFunction(t => Number(document.body.dataset.loaded) > t, loadedAt);
  say({ step: "live", before, shown: await shown(),
        ticks: await page.evaluate(() => Number(document.body.dataset.liveTicks)) });
  // The domain filter narrows every panel.
  const filter = process.env.SINKD_E2E_FILTER_DOMAIN;
  if (filter) {
    const at = await page.evaluate(() => Number(document.body.dataset.loaded));
    await page.fill("#f-domain", filter);
    await page.click("#filters button[type=submit]");
    await page.waitForFunction(t => Number(document.body.dataset.loaded) > t, at);
    say({ step: "filtered", shown: await shown() });
    await page.fill("#f-domain", "");
    const at2 = await page.evaluate(() => Number(document.body.dataset.loaded));
    await page.click("#filters button[type=submit]");
    await page.waitForFunction(t => Number(document.body.dataset.loaded) > t, at2);
  }
  await page.screenshot({ path: shot, fullPage: true });
  say({ step: "done", errors, screenshot: shot });
} catch (e) {
  say({ step: "error", message: String(e && e.stack || e), errors });
  process.exitCode = 1;
} finally {
  if (browser) await browser.close();
  rmSync(profile, { recursive: true, force: true });
  rl.close();
}
