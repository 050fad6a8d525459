/**
 * The live parts of the web client between two windows (Debian's chromium
 * against `npm start`): presence in the member list, the typing indicator,
 * read receipts ("Seen by"), unread counts in the room list that rise while
 * the user looks at another room and clear when they open it, and an image
 * uploaded with a progress bar that shows as a preview in the other window.
 */
import { expect, it } from "vitest";
import { artifactPath, chatInBrowser, gradientPng, openRoom, signedIn } from "./browser";

const stack = chatInBrowser();

it("shows presence, typing, read receipts, unread counts and image attachments live in the other window", async () => {
  const carolClient = await stack.server.client("carol");
  await carolClient.createRoom("studio");
  await carolClient.createRoom("side");
  const daveClient = await stack.server.client("dave");
  await daveClient.joinRoom("studio");
  await daveClient.joinRoom("side");

  const carol = await signedIn(stack.browser, stack.server.baseUrl, "carol");
  const dave = await signedIn(stack.browser, stack.server.baseUrl, "dave");
  await openRoom(carol.page, stack.server.baseUrl, "studio");
  await openRoom(dave.page, stack.server.baseUrl, "studio");

  // Presence: dave opened the room after carol, and her member list hears of it live.
  const carolMembers = carol.page.getByRole("complementary", { name: "Members" });
  await carolMembers.locator('[data-user="dave"]').getByText("online", { exact: true }).waitFor();
  await carolMembers.locator('[data-user="carol"]').getByText("online", { exact: true }).waitFor();

  // Typing: dave types, carol sees it; his message ends it.
  const daveBox = dave.page.getByLabel("Message");
  await daveBox.pressSequentially("on my way", { delay: 10 });
  const typing = carol.page.getByText("dave is typing…");
  await typing.waitFor();
  await daveBox.press("Enter");
  await carol.page.locator(".msg", { hasText: "on my way" }).waitFor();
  await typing.waitFor({ state: "detached" });

  // Read receipts: dave's window is showing the room, so carol's message is read there.
  const carolBox = carol.page.getByLabel("Message");
  await carolBox.fill("did you see the mockups?");
  await carolBox.press("Enter");
  await dave.page.locator(".msg", { hasText: "did you see the mockups?" }).waitFor();
  await carol.page.locator(".msg.mine", { hasText: "did you see the mockups?" }).getByText("Seen by dave").waitFor({ timeout: 15_000 });

  // Unread counts: messages in a room dave is not looking at raise its badge live...
  await carolClient.sendMessage("side", "psst, over here");
  await carolClient.sendMessage("side", "two things");
  const daveRooms = dave.page.getByRole("navigation", { name: "Rooms" });
  const sideLink = daveRooms.getByRole("link", { name: /#side/ });
  await sideLink.getByText("2 unread messages").waitFor({ timeout: 15_000 });
  await sideLink.getByText("carol: two things").waitFor();
  await dave.page.screenshot({ path: artifactPath("inbox-unread.png") });
  // ...most recent first...
  expect(await daveRooms.locator(".room-name").first().textContent()).toBe("#side");
  // ...and opening it clears the badge, which stays clear after going back.
  await sideLink.click();
  await dave.page.locator(".msg", { hasText: "two things" }).waitFor();
  await sideLink.locator(".unread").waitFor({ state: "hidden" });
  await daveRooms.getByRole("link", { name: /#studio/ }).click();
  await dave.page.locator(".msg", { hasText: "on my way" }).waitFor();
  expect(await sideLink.locator(".unread").isHidden()).toBe(true);
  expect((await daveClient.listRooms()).find((r) => r.roomId === "side")?.unreadCount).toBe(0);

  // An image and a text file: upload progress, then a preview and a download link in the other window.
  const image = gradientPng(480, 320);
  const chooser = carol.page.waitForEvent("filechooser");
  await carol.page.getByRole("button", { name: "Attach file" }).click();
  await (await chooser).setFiles([
    { name: "mockup.png", mimeType: "image/png", buffer: image },
    { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("1. bigger buttons\n2. darker text\n") },
  ]);
  const progress = carol.page.getByRole("progressbar", { name: "Upload of mockup.png" });
  await progress.waitFor();
  const tray = carol.page.getByRole("list", { name: "Files to send" });
  await tray.getByRole("listitem").filter({ hasText: "mockup.png" }).getByText("Ready").waitFor();
  await tray.getByRole("listitem").filter({ hasText: "notes.txt" }).getByText("Ready").waitFor();
  expect(await progress.evaluate((p: HTMLProgressElement) => [p.value, p.max])).toEqual([image.length, image.length]);
  await carolBox.fill("latest mockup attached");
  await carolBox.press("Enter");
  await carol.page.locator(".msg.mine", { hasText: "latest mockup attached" }).getByText("Sent").waitFor();

  const received = dave.page.locator(".msg", { hasText: "latest mockup attached" });
  const preview = received.getByRole("img", { name: "mockup.png" });
  await preview.waitFor();
  await dave.page.waitForFunction(() => (document.querySelector<HTMLImageElement>('.msg img[alt="mockup.png"]')?.naturalWidth ?? 0) === 480);
  const src = await preview.getAttribute("src");
  expect(src?.startsWith(`${stack.server.baseUrl}/api/rooms/studio/media/`)).toBe(true);
  const file = received.getByRole("link", { name: /notes\.txt/ });
  const href = await file.getAttribute("href");
  expect(href?.startsWith(`${stack.server.baseUrl}/api/rooms/studio/media/`)).toBe(true);
  expect(await (await fetch(href!)).text()).toBe("1. bigger buttons\n2. darker text\n");

  await carol.page.locator('.msg img[alt="mockup.png"]').waitFor();
  // "Seen by" moves to the latest message once dave's window has read it.
  await carol.page.locator(".msg.mine", { hasText: "latest mockup attached" }).getByText("Seen by dave").waitFor({ timeout: 15_000 });
  expect(await carol.page.getByText("Seen by dave").count()).toBe(1);
  await carol.page.screenshot({ path: artifactPath("conversation-live.png") });
  expect(carol.errors).toEqual([]);
  expect(dave.errors).toEqual([]);
});
