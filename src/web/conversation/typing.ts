/**
 * The line under the thread that says who is typing. It keeps no state of
 * its own: the room subscription (the SDK) knows who is typing and when their
 * notice expires; this renders whatever list it is given.
 */
import { h } from "../dom";

/** "a is typing…", "a and b are typing…", "a, b and 3 more are typing…"; "" for nobody. */
export function typingText(names: readonly string[]): string {
  if (names.length === 0) return "";
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return `${names[0]}, ${names[1]} and ${names.length - 2} more are typing…`;
}

export class TypingLine {
  readonly el = h("div", { class: "typing-indicator", "aria-live": "polite" });

  /** `users` in the order they started typing. */
  render(users: readonly string[]): void {
    const text = typingText(users);
    // Rewriting the same text would make some screen readers announce it again.
    if (this.el.textContent !== text) this.el.textContent = text;
  }
}
