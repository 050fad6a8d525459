/**
 * The web client survives a server restart: the conversation shows a
 * reconnecting banner while the server is down, hides it once the
 * subscription is live again, and sending works again, live to the other user.
 */
import { expect, it } from "vitest";
import { chatInBrowser, messageTexts, openRoom, signedIn } from "./browser";

const stack = chatInBrowser();

it("shows a reconnecting banner while the server restarts, then chats again", async () => {
  const owner = await stack.server.client("rita");
  await owner.createRoom("ops");
  await (await stack.server.client("sid")).joinRoom("ops");
  const rita = await signedIn(stack.browser, stack.server.baseUrl, "rita");
  const sid = await signedIn(stack.browser, stack.server.baseUrl, "sid");
  await openRoom(rita.page, stack.server.baseUrl, "ops");
  await openRoom(sid.page, stack.server.baseUrl, "ops");

  const box = rita.page.getByLabel("Message");
  await box.fill("before the restart");
  await box.press("Enter");
  await sid.page.locator(".messages").getByText("before the restart").waitFor();

  const banner = rita.page.getByRole("status").filter({ hasText: "Reconnecting" });
  expect(await banner.count()).toBe(0);
  const t0 = Date.now();
  const mark = (what: string) => console.log(`[reconnect] ${what} after ${Date.now() - t0} ms`);
  await stack.server.kill();
  mark("server stopped");
  await banner.waitFor({ timeout: 60_000 });
  mark("banner shown");

  // A send while the server is away is shown as in flight, then as failed with Retry.
  await box.fill("while it was down");
  await box.press("Enter");
  const pending = rita.page.locator(".msg.mine", { hasText: "while it was down" });
  await pending.getByText("Sending…").waitFor();
  await pending.getByText("Failed to send").waitFor({ timeout: 20_000 });

  mark("send failed");
  await stack.server.restart();
  mark("server restarted");
  await banner.waitFor({ state: "detached", timeout: 60_000 });
  await sid.page.getByRole("status").filter({ hasText: "Reconnecting" }).waitFor({ state: "detached", timeout: 60_000 });

  mark("banner hidden");
  // Retry stores it (once), and new sends work and arrive live.
  await pending.getByRole("button", { name: "Retry" }).click();
  try {
    await pending.getByText("Sent").waitFor({ timeout: 30_000 });
  } catch (error) {
    // Say what the message showed instead (e.g. failed again, and why).
    throw new Error(`retried send not stored: ${await pending.textContent()} ${rita.errors.join("; ")}`, { cause: error });
  }
  await box.fill("after the restart");
  await box.press("Enter");
  await rita.page.locator(".msg.mine", { hasText: "after the restart" }).getByText("Sent").waitFor({ timeout: 20_000 });
  // The other window, without a reload, receives all three live, once each, in order.
  await sid.page.locator(".messages").getByText("after the restart").waitFor({ timeout: 20_000 });
  expect(await messageTexts(sid.page)).toEqual(["before the restart", "while it was down", "after the restart"]);
  expect(await messageTexts(rita.page)).toEqual(["before the restart", "while it was down", "after the restart"]);
}, 180_000);
