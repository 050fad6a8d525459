/**
 * Browser test helpers: Debian's chromium through playwright-core (which never
 * downloads a browser), signing in through the UI, and opening rooms.
 */
import { mkdirSync } from "node:fs";
import { deflateSync } from "node:zlib";
import { type Browser, type BrowserContext, type Page, chromium } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
import { type LocalChat, startLocalChat } from "../e2e/server";


/**
 * A test file's stack: the local chat (as `npm start` runs it) and chromium,
 * started together before the file's tests and stopped after them. Its fields
 * are set once the file's tests run.
 */
export function chatInBrowser(): { server: LocalChat; browser: Browser } {
  const stack = {} as { server: LocalChat; browser: Browser };
  beforeAll(async () => {
    [stack.server, stack.browser] = await Promise.all([startLocalChat(), launchBrowser()]);
  });
  afterAll(async () => {
    await stack.browser?.close();
    await stack.server?.stop();
  });
  return stack;
}

async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}

export interface UserPage {
  context: BrowserContext;
  page: Page;
  /** Uncaught page errors and console errors (CSP violations show up here). */
  errors: string[];
}

/** A fresh browser context (its own sessionStorage), signed in as `userId` through the sign-in form. */
export async function signedIn(browser: Browser, baseUrl: string, userId: string, viewport = { width: 1200, height: 800 }): Promise<UserPage> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    // The browser logs every non-2xx fetch ("Failed to load resource"); the app handles those itself.
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) errors.push(`console: ${message.text()}`);
  });
  await page.goto(`${baseUrl}/`);
  const name = page.getByLabel("User name");
  await name.fill(userId);
  await name.press("Enter");
  await page.getByRole("navigation", { name: "Rooms" }).waitFor();
  return { context, page, errors };
}

/** Opens a room by its address and waits until the conversation is live (composer shown). */
export async function openRoom(page: Page, baseUrl: string, roomId: string): Promise<void> {
  await page.goto(`${baseUrl}/#/r/${encodeURIComponent(roomId)}`);
  await page.getByLabel("Message").waitFor();
}

export function artifactPath(name: string): string {
  mkdirSync("test-artifacts", { recursive: true });
  return `test-artifacts/${name}`;
}

/** The visible text of each message body in the open conversation, in page order. */
export function messageTexts(page: Page): Promise<string[]> {
  return page.locator(".messages .msg .msg-body").allTextContents();
}

/**
 * A real, decodable PNG (so the browser can show it): a colour gradient with
 * noise, which keeps it a few hundred KB so the upload has something to report.
 */
export function gradientPng(width: number, height: number): Buffer {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const noise = (Math.random() * 48) | 0;
      raw[row + 1 + x * 3] = ((x / width) * 200 + noise) | 0;
      raw[row + 2 + x * 3] = ((y / height) * 200 + noise) | 0;
      raw[row + 3 + x * 3] = 180;
    }
  }
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const out = Buffer.alloc(data.length + 12);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), data.length + 8);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
