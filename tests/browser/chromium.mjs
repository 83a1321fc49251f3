// The system Chromium, headless, as the browser tests launch it.
import puppeteer from "puppeteer-core";

export function launchChromium() {
  return puppeteer.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    // As root Chromium needs --no-sandbox; the machine has no network, so
    // everything that would phone home is off.
    args: ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
           "--disable-quic", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync"],
  });
}
