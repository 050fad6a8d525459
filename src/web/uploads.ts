/**
 * Files waiting to go with the next message: the "Attach file" button (and
 * its hidden file input), and a tray with one entry per file showing its
 * upload progress (a <progress> bar, role progressbar), then "Ready", or the
 * failure with Retry. Uploading starts as soon as a file is picked, so by the
 * time the text is written the file is usually there; the message is sent
 * with the finished uploads' media ids.
 */
import { type Attachment, ChatError, type ChatClient, MAX_ATTACHMENTS } from "../client";
import { formatSize } from "./attachments";
import { h } from "./dom";
import { errorText } from "./errors";

interface Upload {
  file: File;
  li: HTMLLIElement;
  progress: HTMLProgressElement;
  status: HTMLElement;
  actions: HTMLElement;
  controller: AbortController;
  attachment: Attachment | null;
  failed: boolean;
}

export class UploadTray {
  readonly el: HTMLElement;
  readonly button = h("button", { type: "button", class: "secondary attach", "aria-label": "Attach file", title: "Attach a file (or drop or paste one)" }, "Attach");
  readonly input = h("input", { type: "file", multiple: true, hidden: true, tabindex: -1 });
  readonly #list = h("ul", { class: "upload-list", "aria-label": "Files to send" });
  readonly #note = h("p", { class: "upload-note", role: "status" });
  readonly #uploads: Upload[] = [];

  constructor(
    private readonly chat: ChatClient,
    private readonly roomId: string,
    /** No upload is in flight any more (each one finished or failed). */
    private readonly onSettled: () => void = () => undefined,
  ) {
    this.el = h("div", { class: "upload-tray", hidden: true }, this.#list, this.#note);
    this.button.addEventListener("click", () => this.input.click());
    this.input.addEventListener("change", () => {
      this.add([...(this.input.files ?? [])]);
      this.input.value = ""; // the same file may be picked again
    });
  }

  /** Starts uploading each file. */
  add(files: File[]): void {
    this.#note.textContent = "";
    for (const file of files) {
      if (this.#uploads.length >= MAX_ATTACHMENTS) {
        this.#note.textContent = `A message can carry at most ${MAX_ATTACHMENTS} files.`;
        break;
      }
      this.#start(file);
    }
    this.#layout();
  }

  /** Finished uploads, in the order they were picked. */
  get attachments(): Attachment[] {
    return this.#uploads.flatMap((u) => (u.attachment ? [u.attachment] : []));
  }

  /**
   * Whether the message can go: "ready" (every file is up, or there are none),
   * "uploading" (the caller may wait for `onSettled`), or "failed" (the user
   * must retry or remove a file). Says so in the tray when it is not ready.
   */
  check(): "ready" | "uploading" | "failed" {
    if (this.#uploads.some((u) => u.failed)) {
      this.#note.textContent = "Some files could not be uploaded: retry or remove them first.";
      return "failed";
    }
    if (this.#uploads.some((u) => !u.attachment)) {
      this.#note.textContent = "The message will be sent when the files have uploaded.";
      return "uploading";
    }
    return "ready";
  }

  /** The message went out with these files: empty the tray. */
  clear(): void {
    this.#uploads.splice(0).forEach((u) => u.li.remove());
    this.#note.textContent = "";
    this.#layout();
  }

  /** The conversation closed: stop uploads in flight (unsent uploads are deleted by the server after a day). */
  close(): void {
    for (const upload of this.#uploads) if (!upload.attachment) upload.controller.abort();
  }

  #start(file: File): void {
    const progress = h("progress", { max: Math.max(file.size, 1), value: 0, "aria-label": `Upload of ${file.name}` });
    const status = h("span", { class: "upload-status", text: "Uploading…" });
    const actions = h("span", { class: "upload-actions" });
    const li = h("li", { class: "upload" }, h("span", { class: "upload-name", text: `${file.name} (${formatSize(file.size)})` }), progress, status, actions);
    const upload: Upload = { file, li, progress, status, actions, controller: new AbortController(), attachment: null, failed: false };
    this.#uploads.push(upload);
    this.#list.appendChild(li);
    this.#run(upload);
  }

  #run(upload: Upload): void {
    upload.failed = false;
    upload.controller = new AbortController();
    upload.li.dataset.state = "uploading";
    upload.progress.value = 0;
    upload.status.textContent = "Uploading…";
    upload.actions.replaceChildren(this.#removeButton(upload));
    this.chat
      .uploadMedia(this.roomId, upload.file, {
        filename: upload.file.name,
        signal: upload.controller.signal,
        onProgress: (sent, total) => {
          upload.progress.max = Math.max(total, 1);
          upload.progress.value = sent;
          upload.status.textContent = total > 0 ? `Uploading… ${Math.floor((sent / total) * 100)}%` : "Uploading…";
        },
      })
      .then((attachment) => {
        if (!this.#uploads.includes(upload)) return;
        upload.attachment = attachment;
        upload.progress.value = upload.progress.max;
        upload.status.textContent = "Ready";
        upload.li.dataset.state = "ready";
        this.#settled();
      })
      .catch((error: unknown) => {
        if (!this.#uploads.includes(upload) || (error instanceof ChatError && error.code === "cancelled")) return;
        upload.failed = true;
        upload.li.dataset.state = "failed";
        upload.status.textContent = `Upload failed: ${errorText("upload", error)}`;
        const retry = h("button", { type: "button", class: "link-button", "aria-label": `Retry ${upload.file.name}`, onclick: () => this.#run(upload) }, "Retry");
        upload.actions.replaceChildren(retry, this.#removeButton(upload));
        this.#settled();
      });
  }

  #settled(): void {
    if (this.#uploads.some((u) => !u.attachment && !u.failed)) return;
    this.#note.textContent = "";
    this.onSettled();
  }

  #removeButton(upload: Upload): HTMLButtonElement {
    return h("button", { type: "button", class: "link-button", "aria-label": `Remove ${upload.file.name}`, onclick: () => this.#remove(upload) }, "Remove");
  }

  #remove(upload: Upload): void {
    upload.controller.abort();
    const i = this.#uploads.indexOf(upload);
    if (i >= 0) this.#uploads.splice(i, 1);
    upload.li.remove();
    this.#note.textContent = "";
    this.#layout();
    this.button.focus();
    this.#settled();
  }

  #layout(): void {
    this.el.hidden = this.#uploads.length === 0 && !this.#note.textContent;
  }
}
