/**
 * A message's attachments: images as previews (an <img> from the signed
 * download URL, the file name as its alt text, linking to the full file),
 * audio and video with the browser's controls, anything else as a download
 * link with its name and size. Names are text; URLs come from the server's
 * signed-URL route and are used only if they are http(s).
 */
import type { Attachment } from "../client";
import { h } from "./dom";
import { safeHref } from "./linkify";

/** Resolves a media id to a URL that works without headers (`chat.mediaUrl`). */
export type MediaUrlSource = (mediaId: string) => Promise<string>;

export function attachmentList(attachments: Attachment[], mediaUrl: MediaUrlSource): HTMLElement {
  return h("ul", { class: "msg-attachments", "aria-label": "Attachments" }, ...attachments.map((a) => attachmentItem(a, mediaUrl)));
}

function attachmentItem(attachment: Attachment, mediaUrl: MediaUrlSource): HTMLLIElement {
  const kind = mediaKind(attachment.contentType);
  const li = h("li", { class: `attachment attachment-${kind}`, "data-media": attachment.mediaId });
  const label = `${attachment.filename} (${formatSize(attachment.size)})`;
  // A placeholder with the name until the signed URL is known.
  const placeholder = h("span", { class: "attachment-loading", text: label });
  li.appendChild(placeholder);
  void mediaUrl(attachment.mediaId)
    .then((url) => {
      const href = safeHref(url);
      if (!href) throw new Error("not an http(s) URL");
      placeholder.replaceWith(render(attachment, kind, href, label));
    })
    .catch(() => {
      placeholder.textContent = `${label}: not available`;
    });
  return li;
}

type MediaKind = "image" | "video" | "audio" | "file";

function mediaKind(contentType: string): MediaKind {
  // The server decided the type from the bytes and never accepts SVG or HTML.
  if (contentType.startsWith("image/") && contentType !== "image/svg+xml") return "image";
  if (contentType.startsWith("video/")) return "video";
  if (contentType.startsWith("audio/")) return "audio";
  return "file";
}

function render(attachment: Attachment, kind: MediaKind, href: string, label: string): HTMLElement {
  const link = (...children: (Node | string)[]) => h("a", { href, target: "_blank", rel: "noopener noreferrer", download: kind === "file" ? attachment.filename : undefined }, ...children);
  switch (kind) {
    case "image": {
      const img = h("img", { src: href, alt: attachment.filename, loading: "lazy", decoding: "async", width: attachment.width, height: attachment.height });
      return link(img);
    }
    case "video":
      return h("video", { src: href, controls: true, preload: "metadata", "aria-label": attachment.filename, width: attachment.width, height: attachment.height });
    case "audio":
      return h("audio", { src: href, controls: true, preload: "metadata", "aria-label": attachment.filename });
    case "file":
      return link(label);
  }
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
