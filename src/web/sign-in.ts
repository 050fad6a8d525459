/**
 * Sign-in: a user name (dev auth, `npm start`: the server issues a token for
 * any name) or a pasted token from the deployment's identity provider.
 */
import { h } from "./dom";
import { describe } from "./errors";
import { type Session, devToken, saveSession } from "./session";

export function signInScreen(onSignedIn: (session: Session) => void, notice?: string): HTMLElement {
  const error = h("p", { class: "form-error", role: "alert" });
  if (notice) error.textContent = notice;
  const fail = (text: string) => (error.textContent = text);

  const name = h("input", { id: "user-name", name: "username", autocomplete: "username", required: true, spellcheck: "false", autocapitalize: "none" });
  const nameForm = h(
    "form",
    { class: "sign-in-form" },
    h("label", { for: "user-name", text: "User name" }),
    h("div", { class: "row" }, name, h("button", { type: "submit" }, "Sign in")),
    h("p", { class: "hint", text: "Local development: any name works. Press Enter to sign in." }),
  );
  nameForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const userId = name.value.trim();
    if (!userId) return;
    try {
      const result = saveSession(await devToken(userId));
      if (typeof result === "string") fail(result);
      else onSignedIn(result);
    } catch (err) {
      fail(describe(err));
    }
  });

  const token = h("textarea", { id: "token", name: "token", rows: 3, spellcheck: "false", autocomplete: "off" });
  const tokenForm = h(
    "form",
    { class: "sign-in-form" },
    h("label", { for: "token", text: "Token" }),
    token,
    h("button", { type: "submit" }, "Sign in with token"),
  );
  tokenForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const result = saveSession(token.value);
    if (typeof result === "string") fail(result);
    else onSignedIn(result);
  });

  const view = h(
    "main",
    { class: "sign-in" },
    h("h1", {}, "edge-chat"),
    h("p", { class: "tagline", text: "Sign in to start chatting." }),
    error,
    nameForm,
    h("details", { class: "token-sign-in" }, h("summary", {}, "Sign in with a token instead"), tokenForm),
  );
  queueMicrotask(() => name.focus());
  return view;
}
