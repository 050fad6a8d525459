/**
 * Browser test helpers: Debian's chromium through playwright-core (which never
 * downloads a browser), signing in through the UI, and opening rooms.
 */
import { mkdirSync } from "node:fs";
import { type Browser, type BrowserContext, type Page, chromium } from "playwright-core";


export async function launchBrowser(): Promise<Browser> {
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
