// The bridge gives redactions as UTF-8 *byte* ranges of the message
// ([begin, end), with the type); JavaScript strings index UTF-16 code units.
// These convert once per rendered row, only for rows that are on screen.

export type Span = [number, number, string];

const ASCII = /^[\x00-\x7f]*$/;

function utf8Length(codePoint: number): number {
  return codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
}

/**
 * Byte ranges -> string index ranges, sorted, clipped, overlaps dropped.
 * A boundary inside a code point (it never should be) moves to the next one.
 */
export function byteRangesToIndices(message: string, ranges: ReadonlyArray<Span> | undefined | null): Span[] {
  if (!ranges || ranges.length === 0) return [];
  const valid = ranges
    .filter((r) => Array.isArray(r) && r.length >= 2 && Number.isFinite(r[0]) && Number.isFinite(r[1]) && r[1] > r[0] && r[0] >= 0)
    .map((r) => [r[0], r[1], String(r[2] ?? "")] as Span)
    .sort((a, b) => a[0] - b[0]);
  if (valid.length === 0) return [];
  if (ASCII.test(message)) {
    return dropOverlaps(valid.map(([b, e, t]) => [Math.min(b, message.length), Math.min(e, message.length), t] as Span));
  }
  // The byte offsets asked for, ascending; one walk over the string answers all.
  const wanted = Array.from(new Set(valid.flatMap(([b, e]) => [b, e]))).sort((x, y) => x - y);
  const at = new Map<number, number>();
  let byte = 0;
  let i = 0;
  let w = 0;
  while (w < wanted.length && i < message.length) {
    while (w < wanted.length && wanted[w] <= byte) at.set(wanted[w++], i);
    const cp = message.codePointAt(i) as number;
    byte += utf8Length(cp);
    i += cp > 0xffff ? 2 : 1;
  }
  while (w < wanted.length) at.set(wanted[w++], message.length);
  return dropOverlaps(valid.map(([b, e, t]) => [at.get(b) as number, at.get(e) as number, t] as Span));
}

function dropOverlaps(spans: Span[]): Span[] {
  const out: Span[] = [];
  let end = 0;
  for (const s of spans) {
    if (s[0] < end || s[1] <= s[0]) continue;
    out.push(s);
    end = s[1];
  }
  return out;
}

/** Appends the message to `into` as text nodes, with redactions as spans. */
export function renderMessage(into: HTMLElement, message: string, spans: Span[]): void {
  let at = 0;
  for (const [b, e, type] of spans) {
    if (b > at) into.appendChild(document.createTextNode(message.slice(at, b)));
    const s = document.createElement("span");
    s.className = "redacted";
    s.dataset.type = type;
    s.title = "redacted by the protect stage: " + (type || "?");
    s.textContent = message.slice(b, e);
    into.appendChild(s);
    at = e;
  }
  if (at < message.length) into.appendChild(document.createTextNode(message.slice(at)));
}
