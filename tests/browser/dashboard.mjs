// Opens rill's dashboard in the system Chromium (headless) and checks, through
// the DOM, that its charts receive data while a consume runs; saves a
// screenshot. Usage: node dashboard.mjs URL SCREENSHOT.png
import { launchChromium } from "./chromium.mjs";

const [url, screenshot] = process.argv.slice(2);
const browser = await launchChromium();
let failed = null;
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url, { waitUntil: "load", timeout: 15000 });
  // Four refreshes (2 s apart) with points in every chart and a positive
  // throughput somewhere in the window.
  const state = () => page.evaluate(() => ({
    updates: Number(document.body.dataset.updates || 0),
    points: Object.fromEntries(["throughput", "lag", "pending", "in_flight"].map(
      (id) => [id, Number(document.getElementById(id).dataset.points || 0)])),
    status: document.getElementById("status").textContent,
  }));
  await page.waitForFunction(() => {
    const n = Number(document.body.dataset.updates || 0);
    const points = ["throughput", "lag", "pending", "in_flight"].map(
      (id) => Number(document.getElementById(id).dataset.points || 0));
    const rate = Chart.getChart("throughput").data.datasets.some((d) => d.data.some((p) => p.y > 0));
    return n >= 4 && points.every((p) => p > 0) && rate;
  }, { timeout: 30000, polling: 250 }).catch(async (e) => {
    await page.screenshot({ path: screenshot, fullPage: true });
    throw new Error(e.message + "; the page showed " + JSON.stringify(await state()));
  });
  const seen = await page.evaluate(() => ({
    updates: Number(document.body.dataset.updates),
    points: Object.fromEntries(["throughput", "lag", "pending", "in_flight"].map(
      (id) => [id, Number(document.getElementById(id).dataset.points)])),
    max_rate: Math.max(...Chart.getChart("throughput").data.datasets.flatMap((d) => d.data.map((p) => p.y))),
    row: document.querySelector("#consumers tbody tr td").textContent,
    acked: document.querySelector("#consumers tbody tr td:nth-child(2)").textContent,
    status: document.getElementById("status").textContent,
  }));
  await page.screenshot({ path: screenshot, fullPage: true });
  if (errors.length) failed = "page errors: " + errors.join("; ");
  console.log(JSON.stringify(seen));
} catch (e) {
  failed = String(e);
} finally {
  await browser.close();
}
if (failed) {
  console.error(failed);
  process.exit(1);
}
