// Debian's Chromium for the admin page's tests, driven by playwright-core (which downloads no
// browser): where it is, and how it starts on a machine whose network is closed.
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** CHROMIUM_PATH, else Debian's binary; undefined when there is none (the tests then skip, saying why). */
export const chromiumPath = [
  process.env.CHROMIUM_PATH,
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
].find((p): p is string => Boolean(p && existsSync(p)));

export const NO_CHROMIUM = 'no Chromium: install Debian’s chromium or set CHROMIUM_PATH';

export const launchChromium = (): Promise<Browser> =>
  chromium.launch({
    executablePath: chromiumPath!,
    headless: true,
    // This machine's network is closed: Chromium's background calls would only fail.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
