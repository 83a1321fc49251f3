// A page using EventSource against `rill gateway`, in the system Chromium
// (headless): it lists every event's ID in the DOM; the test restarts the
// gateway meanwhile and the browser reconnects by itself, sending
// Last-Event-ID. Prints {"ids": [...], "opens": n, "errors": n} read back from
// the DOM once the list holds N items (or after 90 s).
// Usage: node gateway.mjs PAGE_PORT EVENTS_URL N SCREENSHOT.png
import http from "node:http";
import { launchChromium } from "./chromium.mjs";

const [pagePort, eventsUrl, n, screenshot] = process.argv.slice(2);
// The page comes from another origin than the events: CORS is exercised too.
const page_html = `<!doctype html><meta charset="utf-8"><title>rill events</title>
<body data-opens="0" data-errors="0"><h1>events</h1><ol id="ids"></ol>
<script>
  const list = document.getElementById("ids");
  const source = new EventSource(${JSON.stringify(eventsUrl)});
  source.onopen = () => { document.body.dataset.opens = Number(document.body.dataset.opens) + 1; };
  source.onerror = () => { document.body.dataset.errors = Number(document.body.dataset.errors) + 1; };
  source.onmessage = (e) => {
    const li = document.createElement("li");
    li.textContent = e.lastEventId;
    list.appendChild(li);
  };
</script>`;
const server = http.createServer((req, res) => {
  res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
  res.end(page_html);
});
await new Promise((ok) => server.listen(Number(pagePort), "127.0.0.1", ok));

const browser = await launchChromium();
let failed = null;
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`http://127.0.0.1:${pagePort}/`, { waitUntil: "load", timeout: 15000 });
  await page.waitForFunction((want) => document.querySelectorAll("#ids li").length >= want,
                             { timeout: 90000, polling: 200 }, Number(n)).catch(() => {});
  await new Promise((ok) => setTimeout(ok, 1000)); // anything past N would show now
  const seen = await page.evaluate(() => ({
    ids: [...document.querySelectorAll("#ids li")].map((li) => li.textContent),
    opens: Number(document.body.dataset.opens),
    errors: Number(document.body.dataset.errors),
  }));
  await page.screenshot({ path: screenshot });
  if (errors.length) failed = "page errors: " + errors.join("; ");
  console.log(JSON.stringify(seen));
} catch (e) {
  failed = String(e);
} finally {
  await browser.close();
  server.close();
}
if (failed) {
  console.error(failed);
  process.exit(1);
}
