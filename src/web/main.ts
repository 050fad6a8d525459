/**
 * The web client's entry point: sign-in, then the chat. Built by
 * scripts/build-web.mjs into dist/web and served by the Worker's assets.
 */
import { config } from "zod";
import { ChatApp } from "./app";
import { replaceChildren } from "./dom";
import { type Session, clearSession, loadSession } from "./session";
import { signInScreen } from "./sign-in";

// The SDK validates frames with zod. Its fast path compiles validators with
// `new Function`, which our CSP (no 'unsafe-eval') forbids: use the plain path.
config({ jitless: true });

const root = document.getElementById("app");
if (!root) throw new Error("missing #app");
let app: ChatApp | null = null;

function showSignIn(notice?: string): void {
  app?.stop();
  app = null;
  clearSession();
  document.title = "Sign in · edge-chat";
  replaceChildren(root!, signInScreen(showApp, notice));
}

function showApp(session: Session): void {
  document.title = "edge-chat";
  app = new ChatApp(session, showSignIn);
  replaceChildren(root!, app.el);
  app.start();
}

const session = loadSession();
if (session) showApp(session);
else showSignIn();
