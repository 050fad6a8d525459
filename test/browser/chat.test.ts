/**
 * The web client in a real browser (Debian's chromium) against `npm start`:
 * sign-in, two users chatting live, scroll-back through several history pages,
 * edits and deletions reaching the other window, XSS payloads rendered as text,
 * the security headers, and a screenshot of the conversation view.
 */
import { describe, expect, it } from "vitest";
import type { ChatClient } from "../../src/client";
import { artifactPath, chatInBrowser, messageTexts, openRoom, signedIn, type UserPage } from "./browser";

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const stack = chatInBrowser();
const opened: UserPage[] = [];

async function user(name: string, viewport?: { width: number; height: number }): Promise<UserPage> {
  const u = await signedIn(stack.browser, stack.server.baseUrl, name, viewport);
  opened.push(u);
  return u;
}

describe("web client", () => {
  it("serves the app with a strict CSP and security headers, and labels its controls", async () => {
    const res = await fetch(`${stack.server.baseUrl}/`);
    expect(res.headers.get("content-security-policy")).toBe(CSP);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    // Any app path gets the app too (single-page routing), with the same headers.
    const deep = await fetch(`${stack.server.baseUrl}/rooms/general`);
    expect(deep.headers.get("content-type")).toContain("text/html");
    expect(deep.headers.get("content-security-policy")).toBe(CSP);
    // The API stays with the Worker.
    expect((await fetch(`${stack.server.baseUrl}/api/nope`)).status).toBe(404);

    const u = await user("ada");
    const response = await u.page.reload();
    expect(response?.headers()["content-security-policy"]).toBe(CSP);
    await u.page.getByRole("navigation", { name: "Rooms" }).waitFor();
    await u.page.getByText("New conversation").click();
    await u.page.getByLabel("Room name").fill("labels");
    await u.page.getByRole("button", { name: "Create room" }).click();
    await u.page.getByLabel("Message").waitFor();
    await u.page.getByRole("button", { name: "Send" }).waitFor();
    await u.page.getByRole("log", { name: "Conversation history" }).waitFor();
    await u.page.getByRole("complementary", { name: "Members" }).getByText("ada").waitFor();
    expect(u.errors).toEqual([]);
  });

  it("lets two users in two windows chat in real time", async () => {
    const alice = await user("alice");
    const bob = await user("bob");

    await alice.page.getByText("New conversation").click();
    await alice.page.getByLabel("Room name").fill("lobby");
    await alice.page.getByLabel("Room name").press("Enter");
    const aliceBox = alice.page.getByLabel("Message");
    await aliceBox.waitFor();
    // Opening a conversation puts the focus in its message box.
    await alice.page.waitForFunction(() => document.activeElement?.getAttribute("aria-label") === "Message");

    await bob.page.getByText("New conversation").click();
    await bob.page.getByLabel("Room to join").fill("lobby");
    await bob.page.getByRole("button", { name: "Join room" }).click();
    const bobBox = bob.page.getByLabel("Message");
    await bobBox.waitFor();
    // The member list follows the join live.
    await alice.page.getByRole("complementary", { name: "Members" }).getByText("bob").waitFor();

    await aliceBox.fill("Hi Bob!");
    await aliceBox.press("Enter");
    await alice.page.locator(".msg.mine", { hasText: "Hi Bob!" }).getByText("Sent").waitFor();
    await bob.page.locator(".msg", { hasText: "Hi Bob!" }).waitFor();

    await bobBox.fill("Hello Alice");
    await bob.page.getByRole("button", { name: "Send" }).click();
    await alice.page.locator(".msg", { hasText: "Hello Alice" }).waitFor();
    expect(await messageTexts(alice.page)).toEqual(["Hi Bob!", "Hello Alice"]);
    expect(await messageTexts(bob.page)).toEqual(["Hi Bob!", "Hello Alice"]);

    // The room list (the inbox) shows the room with its last message.
    const rooms = bob.page.getByRole("navigation", { name: "Rooms" });
    await rooms.getByRole("link", { name: /#lobby/ }).getByText("You: Hello Alice").waitFor({ timeout: 15_000 });

    // A direct conversation, started from either side, is the same room.
    await alice.page.getByLabel("Direct chat with").fill("bob");
    await alice.page.getByRole("button", { name: "Start direct chat" }).click();
    await alice.page.getByRole("heading", { name: "bob" }).waitFor();
    await alice.page.getByLabel("Message").fill("psst");
    await alice.page.getByLabel("Message").press("Enter");
    await bob.page.getByRole("navigation", { name: "Rooms" }).getByRole("link", { name: /alice/ }).click({ timeout: 15_000 });
    await bob.page.locator(".msg", { hasText: "psst" }).waitFor();
    expect(alice.errors).toEqual([]);
    expect(bob.errors).toEqual([]);
  });

  it("shows edits and deletions in the other window, and a deleted conversation leaves it", async () => {
    const owner = await stack.server.client("olga");
    await owner.createRoom("edits");
    const olga = await user("olga");
    const pete = await user("pete");
    const peteClient: ChatClient = await stack.server.client("pete");
    await peteClient.joinRoom("edits");
    await openRoom(olga.page, stack.server.baseUrl, "edits");
    await openRoom(pete.page, stack.server.baseUrl, "edits");

    const box = olga.page.getByLabel("Message");
    for (const text of ["first draft", "keep me", "delete me"]) {
      await box.fill(text);
      await box.press("Enter");
    }
    await pete.page.locator(".msg", { hasText: "delete me" }).waitFor();

    // Edit, live.
    const draft = olga.page.locator(".msg", { hasText: "first draft" });
    await draft.getByRole("button", { name: "Edit", exact: true }).click();
    const editor = olga.page.getByLabel("Edited text");
    await editor.fill("final text");
    await editor.press("Enter");
    await pete.page.locator(".msg", { hasText: "final text" }).getByText("(edited)").waitFor();

    // Delete, live: the text disappears from the other window.
    const doomed = olga.page.locator(".msg", { hasText: "delete me" });
    await doomed.getByRole("button", { name: "Delete", exact: true }).click();
    await doomed.getByRole("button", { name: "Delete for everyone" }).click();
    await pete.page.locator(".messages").getByText("delete me").waitFor({ state: "detached" });
    expect(await messageTexts(pete.page)).toEqual(["final text", "keep me", "This message was deleted."]);
    // Others cannot edit or delete your messages.
    expect(await pete.page.getByRole("button", { name: "Delete", exact: true }).count()).toBe(0);

    // Delete the conversation: the other window is told, and the room leaves its list.
    await olga.page.getByRole("button", { name: "Delete conversation" }).click();
    await olga.page.getByRole("button", { name: "Delete for everyone" }).click();
    await olga.page.getByText("You deleted this conversation.").waitFor();
    await pete.page.getByText("olga deleted this conversation.").waitFor();
    expect(await pete.page.getByLabel("Message").isVisible()).toBe(false);
    await pete.page.getByRole("navigation", { name: "Rooms" }).getByRole("link", { name: /#edits/ }).waitFor({ state: "detached", timeout: 15_000 });

    // Undo brings it back for its members.
    await olga.page.getByRole("button", { name: "Undo" }).click();
    await olga.page.getByLabel("Message").waitFor();
    await olga.page.locator(".messages").getByText("keep me").waitFor();
    expect(olga.errors).toEqual([]);
    expect(pete.errors).toEqual([]);
  });

  it("loads older history pages on scroll-up, each message once, in order, keeping the scroll position", async () => {
    // 180 messages from six senders at once (one client sends in order; six interleave),
    // so the expected order is the order the room stored them in.
    const seeders = await Promise.all(Array.from({ length: 6 }, () => stack.server.client("sam")));
    await seeders[0]!.createRoom("archive");
    const stored = await Promise.all(
      seeders.map(async (seeder, s) => {
        const sent = [];
        for (let i = 1; i <= 30; i++) sent.push(await seeder.sendMessage("archive", `archived message ${s}-${String(i).padStart(2, "0")}`));
        return sent;
      }),
    );
    const expected = stored
      .flat()
      .sort((a, b) => a.seq - b.seq)
      .map((m) => m.content);
    const newest = expected.at(-1)!;
    const sam = await user("sam");
    await openRoom(sam.page, stack.server.baseUrl, "archive");
    await sam.page.locator(".msg", { hasText: newest }).waitFor();
    const firstCount = (await messageTexts(sam.page)).length;
    expect(firstCount).toBeLessThan(180);

    const scroller = sam.page.getByRole("log", { name: "Conversation history" });
    const start = sam.page.getByText("This is the beginning of the conversation.");
    for (let round = 0; round < 20 && !(await start.isVisible()); round++) {
      // The message on top stays where the reader sees it when a page goes in above it.
      const top = sam.page.locator(".msg").first();
      const topText = await top.locator(".msg-body").textContent();
      await scroller.evaluate((el) => (el.scrollTop = 0));
      await sam.page.waitForFunction((t) => document.querySelector(".msg .msg-body")?.textContent !== t || document.querySelector(".history-start:not([hidden])"), topText);
      await sam.page.waitForFunction(() => !document.querySelector(".older[disabled]"));
      const anchor = sam.page.locator(".msg", { hasText: topText ?? "" });
      const box = await anchor.boundingBox();
      const view = await scroller.boundingBox();
      if (!(await start.isVisible())) expect(box && view && box.y >= view.y - 1).toBe(true);
    }
    expect(await messageTexts(sam.page)).toEqual(expected);
    expect(sam.errors).toEqual([]);
  });

  it("renders XSS payloads as literal text: no script runs, no dialog opens", async () => {
    const payloads = [
      "<script>window.__xss = 1; alert(1)</script>",
      "<img src=x onerror=\"window.__xss = 2; alert(2)\">",
      "\"><svg onload=alert(3)>",
      "javascript:alert(4)",
      "<a href=\"javascript:alert(5)\">click me</a>",
      "<iframe srcdoc=\"<script>parent.__xss=6</script>\"></iframe>",
      "'';!--\"<XSS>=&{()}",
      "<style>body{display:none}</style>",
      "{{constructor.constructor('alert(7)')()}}",
      "data:text/html,<script>alert(8)</script>",
      "see https://example.com/a?b=<c>&d and javascript://example.com/%0Aalert(9)",
    ];
    const mallory = await stack.server.client("mallory");
    await mallory.createRoom("xss");
    const victimClient = await stack.server.client("victor");
    await victimClient.joinRoom("xss");
    const victor = await user("victor");
    const dialogs: string[] = [];
    victor.page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await openRoom(victor.page, stack.server.baseUrl, "xss");
    // Half arrive live, half come from history after a reload.
    for (const payload of payloads.slice(0, 5)) await mallory.sendMessage("xss", payload);
    await victor.page.locator(".msg").nth(4).waitFor();
    for (const payload of payloads.slice(5)) await mallory.sendMessage("xss", payload);
    await victor.page.locator(".msg").nth(payloads.length - 1).waitFor();
    // Typed into the composer, too.
    await victor.page.getByLabel("Message").fill("<b>bold?</b><script>window.__xss=10</script>");
    await victor.page.getByLabel("Message").press("Enter");
    await victor.page.locator(".msg.mine").getByText("Sent").waitFor();

    const all = [...payloads, "<b>bold?</b><script>window.__xss=10</script>"];
    expect(await messageTexts(victor.page)).toEqual(all);
    await victor.page.reload();
    await victor.page.getByLabel("Message").waitFor();
    await victor.page.locator(".msg").nth(all.length - 1).waitFor();
    expect(await messageTexts(victor.page)).toEqual(all);

    const report = await victor.page.evaluate(() => ({
      flag: (window as unknown as { __xss?: number }).__xss,
      injected: document.querySelectorAll(".messages script, .messages img, .messages svg, .messages iframe, .messages style, .messages b").length,
      hrefs: [...document.querySelectorAll<HTMLAnchorElement>(".messages a")].map((a) => ({ href: a.getAttribute("href"), rel: a.rel, target: a.target })),
      bodyVisible: getComputedStyle(document.body).display !== "none",
    }));
    expect(report.flag).toBeUndefined();
    expect(report.injected).toBe(0);
    expect(report.bodyVisible).toBe(true);
    // Only the http(s) URL became a link (up to the first "<"); javascript: and data: stayed text.
    expect(report.hrefs).toEqual([{ href: "https://example.com/a?b=", rel: "noopener noreferrer", target: "_blank" }]);
    await victor.page.waitForTimeout(300);
    expect(dialogs).toEqual([]);
    expect(victor.errors).toEqual([]);
  });

  it("works on a phone-sized screen and saves a screenshot of the conversation view", async () => {
    const host = await stack.server.client("grace");
    await host.createRoom("design-review");
    const linus = await stack.server.client("linus");
    await linus.joinRoom("design-review");
    await host.sendMessage("design-review", "Morning! The new layout is up at https://example.com/review");
    await linus.sendMessage("design-review", "Looks good. The <b>tags</b> show up as text, as they should.");
    await host.sendMessage("design-review", "Shipping it after lunch.");

    const grace = await user("grace");
    await openRoom(grace.page, stack.server.baseUrl, "design-review");
    await grace.page.locator(".messages").getByText("Shipping it after lunch.").waitFor();
    await grace.page.getByLabel("Message").fill("Thanks, Linus!");
    await grace.page.getByLabel("Message").press("Enter");
    await grace.page.locator(".msg.mine", { hasText: "Thanks, Linus!" }).getByText("Sent").waitFor();
    await grace.page.getByRole("navigation", { name: "Rooms" }).getByText("You: Thanks, Linus!").waitFor({ timeout: 15_000 });
    await grace.page.screenshot({ path: artifactPath("conversation.png") });

    const phone = await user("linus", { width: 390, height: 780 });
    const nav = phone.page.getByRole("navigation", { name: "Rooms" });
    await nav.getByRole("link", { name: /#design-review/ }).click();
    await phone.page.getByLabel("Message").waitFor();
    expect(await nav.isVisible()).toBe(false);
    await phone.page.locator(".messages").getByText("Thanks, Linus!").waitFor();
    const width = await phone.page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(390);
    await phone.page.screenshot({ path: artifactPath("conversation-phone.png") });
    // The member list, with presence, is one button away.
    const members = phone.page.getByRole("complementary", { name: "Members" });
    expect(await members.isVisible()).toBe(false);
    await phone.page.getByRole("button", { name: "Members" }).click();
    await members.getByText("linus").waitFor();
    await members.getByText("online").first().waitFor();
    await phone.page.screenshot({ path: artifactPath("members-phone.png") });
    await phone.page.getByRole("button", { name: "Members" }).click();
    await members.waitFor({ state: "hidden" });
    await phone.page.getByRole("button", { name: "Back to rooms" }).click();
    await nav.waitFor();
    expect(phone.errors).toEqual([]);
  });
});
