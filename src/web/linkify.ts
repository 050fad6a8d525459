/**
 * Splits message text into plain runs and http(s) links. Pure, so it can be
 * tested without a DOM; the caller builds <a> elements with textContent. Any
 * other scheme (javascript:, data:, ...) stays text.
 */
export type Segment = { kind: "text"; text: string } | { kind: "link"; text: string; href: string };

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/gi;
/** Punctuation that usually ends the sentence, not the URL. */
const TRAILING = new Set([...".,:;!?)]}'\""]);

/**
 * `candidate` without its trailing punctuation. A scan from the end, not a
 * regex: `/[.,]+$/` retries from every dot of a run, so a URL followed by
 * 16,000 dots took 320 ms per call and froze every client rendering it.
 */
function trimTrailing(candidate: string): string {
  let end = candidate.length;
  while (end > 0 && TRAILING.has(candidate[end - 1]!)) end--;
  return candidate.slice(0, end);
}

export function linkify(text: string): Segment[] {
  const segments: Segment[] = [];
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const candidate = trimTrailing(match[0]);
    const href = safeHref(candidate);
    const start = match.index ?? 0;
    if (!href) continue;
    if (start > last) segments.push({ kind: "text", text: text.slice(last, start) });
    segments.push({ kind: "link", text: candidate, href });
    last = start + candidate.length;
  }
  if (last < text.length) segments.push({ kind: "text", text: text.slice(last) });
  return segments;
}

/** The normalised URL if it parses as http or https; null otherwise. */
export function safeHref(candidate: string): string | null {
  try {
    const url = new URL(candidate);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}
