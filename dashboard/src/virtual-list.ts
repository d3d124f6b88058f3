// The list: only the rows on screen (plus OVERSCAN each side, never more
// than MAX_DOM_ROWS) exist in the DOM, absolutely placed inside #rows, whose
// height is the whole view's. Rows are one line (ROW_HEIGHT) except the
// expanded ones (few, at most MAX_EXPANDED), whose extra height is known
// without measuring, so positions are arithmetic. Updates are batched: the
// store's callbacks only count and schedule; render() runs once a frame, and
// for new items at most every DATA_RENDER_MS. Rows that leave the screen are
// refilled for the items that enter it rather than made anew.
import type { LogRecord } from "hydra-bridge-client";
import { levelClass } from "./levels.js";
import { byteRangesToIndices, renderMessage } from "./redaction.js";
import type { GapItem, Item, RecordItem, Store } from "./store.js";

export const ROW_HEIGHT = 20;          // --row-h in style.css
export const DETAIL_LINE_HEIGHT = 18;  // --detail-line-h
const DETAIL_PADDING = 8;              // .details margin + padding + border
const MAX_DETAIL_LINES = 14;           // more fields scroll inside the box
export const OVERSCAN = 12;
export const MAX_DOM_ROWS = 2000;
const MAX_EXPANDED = 50;
/** The shortest time between two renders caused by new items (at most 10 a second). */
export const DATA_RENDER_MS = 100;
const MARKER_KEY = -1;

interface Expanded {
  index: number;  // display index
  extra: number;  // pixels beyond ROW_HEIGHT
}

/** A record row's text nodes, kept so that reusing the row only sets text. */
interface RowParts {
  /** False once the row was expanded: it has details and is not reused. */
  plain: boolean;
  time: Text;
  level: Text;
  layer: Text;
  logger: HTMLElement;
  loggerText: Text;
  msg: HTMLElement;
}

/** Sets a text node's text; the same text is not set again (no layout for it). */
function setText(node: Text, text: string): void {
  if (node.data !== text) node.data = text;
}

function fieldCount(rec: LogRecord): number {
  return rec.fields && typeof rec.fields === "object" ? Object.keys(rec.fields).length : 0;
}

function detailLines(rec: LogRecord): number {
  return 1 + Math.max(1, Math.min(fieldCount(rec), MAX_DETAIL_LINES));
}

function extraHeight(item: RecordItem): number {
  return item.expanded ? detailLines(item.rec) * DETAIL_LINE_HEIGHT + DETAIL_PADDING : 0;
}

function shortTime(t: string): string {
  // 2026-12-07T10:15:02.123456Z -> 10:15:02.123 (UTC, as the bridge sends it)
  return typeof t === "string" && t.length >= 19 ? t.slice(11, 23) : String(t ?? "");
}

function fieldText(v: unknown): string {
  if (typeof v === "string") return v;
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

export function gapText(g: GapItem): string {
  if (g.reason === "restart") {
    return `— the process restarted: stream ${g.stream} ended after seq ${g.fromSeq - 1}, a new stream begins (restart) —`;
  }
  if (typeof g.count === "number") {
    const range = g.toSeq !== undefined ? ` [seq ${g.fromSeq}–${g.toSeq}]` : "";
    return `— ${g.count} record${g.count === 1 ? "" : "s"} not shown (${g.reason})${range} —`;
  }
  const to = g.toSeq !== undefined ? `–${g.toSeq}` : " on";
  return `— records ${g.fromSeq}${to} not shown (${g.reason}) —`;
}

export class VirtualList {
  /** Sticks to the bottom while true. */
  follow = true;
  /** Paused with the button (reaching the bottom does not resume). */
  private manualPause = false;
  /** Records appended to the view while paused. */
  newCount = 0;
  private highlight = "";
  private epoch = 0;
  private els = new Map<number, HTMLElement>();
  private parts = new WeakMap<HTMLElement, RowParts>();
  private expanded = new Set<RecordItem>();
  private scheduled = false;
  private dataTimer: number | undefined;
  private lastRender = -Infinity;
  private pendingShiftPx = 0;
  private hadMarker = false;
  private programmaticTop = -1;
  /** Called after each render (the page updates its counters and badge). */
  onRender: () => void = () => {};
  /** Called when follow mode changes. */
  onFollowChange: (follow: boolean) => void = () => {};

  constructor(
    private readonly scroller: HTMLElement,
    private readonly rowsEl: HTMLElement,
    private readonly store: Store,
  ) {
    store.onViewAppend = () => {
      if (!this.follow) this.newCount++;
      this.scheduleData();
    };
    store.onViewShift = (item) => {
      this.pendingShiftPx += ROW_HEIGHT;
      if (item.kind === "record" && item.expanded) {
        this.pendingShiftPx += extraHeight(item);
        item.expanded = false;
        this.expanded.delete(item);
      }
    };
    scroller.addEventListener("scroll", () => this.onScroll(), { passive: true });
    rowsEl.addEventListener("click", (e) => this.onClick(e));
    new ResizeObserver(() => this.schedule()).observe(scroller);
  }

  /** Renders with the next frame (a user's action, a resize: at once). */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.render();
    });
  }

  /**
   * New items: rendered with a frame no sooner than DATA_RENDER_MS after the
   * last render. At a high rate each render replaces every row on screen,
   * and more renders than that show nothing a reader can follow; they would
   * only take the CPU that the records themselves need.
   */
  scheduleData(): void {
    if (this.scheduled || this.dataTimer !== undefined) return;
    const wait = this.lastRender + DATA_RENDER_MS - performance.now();
    if (wait <= 0) {
      this.schedule();
      return;
    }
    this.dataTimer = window.setTimeout(() => {
      this.dataTimer = undefined;
      this.schedule();
    }, wait);
  }

  setHighlight(text: string): void {
    const h = text.trim().toLowerCase();
    if (h === this.highlight) return;
    this.highlight = h;
    this.epoch++;
    this.schedule();
  }

  /** After the store's view was rebuilt (a filter change). */
  reset(): void {
    for (const item of this.expanded) item.expanded = false;
    this.expanded.clear();
    this.newCount = 0;
    this.pendingShiftPx = 0;
    this.epoch++;
    this.schedule();
  }

  setFollow(follow: boolean, manual = false): void {
    this.manualPause = !follow && manual;
    if (follow) this.newCount = 0;
    if (this.follow !== follow) {
      this.follow = follow;
      this.onFollowChange(follow);
    }
    this.schedule();
  }

  domRowCount(): number {
    return this.els.size;
  }

  private hasMarker(): boolean {
    return this.store.dropped > 0;
  }

  private displayCount(): number {
    return this.store.view.length + (this.hasMarker() ? 1 : 0);
  }

  private displayAt(d: number): Item | null {
    return this.hasMarker() ? (d === 0 ? null : (this.store.view.at(d - 1) as Item)) : (this.store.view.at(d) as Item);
  }

  private expandedPositions(): Expanded[] {
    const marker = this.hasMarker() ? 1 : 0;
    const out: Expanded[] = [];
    for (const item of this.expanded) {
      const i = this.store.indexOf(item.n);
      if (i < 0) {
        item.expanded = false;
        this.expanded.delete(item);
        continue;
      }
      out.push({ index: i + marker, extra: extraHeight(item) });
    }
    return out.sort((a, b) => a.index - b.index);
  }

  /** The display index at pixel y. */
  private indexAt(y: number, exp: Expanded[]): number {
    let acc = 0;
    for (const e of exp) {
      const top = e.index * ROW_HEIGHT + acc;
      if (y < top) break;
      if (y < top + ROW_HEIGHT + e.extra) return e.index;
      acc += e.extra;
    }
    return Math.floor((y - acc) / ROW_HEIGHT);
  }

  private setScrollTop(top: number): void {
    this.scroller.scrollTop = top;
    this.programmaticTop = this.scroller.scrollTop;
  }

  private atBottom(): boolean {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 4;
  }

  private onScroll(): void {
    const top = this.scroller.scrollTop;
    if (Math.abs(top - this.programmaticTop) < 1) return;  // ours
    this.programmaticTop = -1;
    if (this.atBottom()) {
      if (!this.follow && !this.manualPause) this.setFollow(true);
    } else if (this.follow) {
      this.setFollow(false);
    }
    this.schedule();
  }

  private onClick(e: MouseEvent): void {
    const target = e.target as HTMLElement;
    if (target.closest(".details")) return;  // let the fields be selected
    const row = target.closest(".row.rec") as HTMLElement | null;
    if (!row) return;
    const n = Number(row.dataset.n);
    const i = this.store.indexOf(n);
    const item = this.store.view.at(i);
    if (!item || item.kind !== "record") return;
    this.toggle(item);
  }

  toggle(item: RecordItem): void {
    if (item.expanded) {
      item.expanded = false;
      this.expanded.delete(item);
    } else {
      if (this.expanded.size >= MAX_EXPANDED) {
        const oldest = this.expanded.values().next().value as RecordItem;
        oldest.expanded = false;
        this.expanded.delete(oldest);
      }
      item.expanded = true;
      this.expanded.add(item);
      // Opening a row is reading: stop following so that it stays in place.
      if (this.follow) this.setFollow(false);
    }
    this.schedule();
  }

  render(): void {
    this.lastRender = performance.now();
    const count = this.displayCount();
    const marker = this.hasMarker();
    if (marker && !this.hadMarker) this.pendingShiftPx -= ROW_HEIGHT;
    this.hadMarker = marker;
    const exp = this.expandedPositions();
    let total = count * ROW_HEIGHT;
    for (const e of exp) total += e.extra;
    this.rowsEl.style.height = `${total}px`;
    const viewport = this.scroller.clientHeight;
    if (this.follow) {
      this.setScrollTop(Math.max(0, total - viewport));
    } else if (this.pendingShiftPx !== 0) {
      this.setScrollTop(Math.max(0, this.scroller.scrollTop - this.pendingShiftPx));
    }
    this.pendingShiftPx = 0;
    const top = this.scroller.scrollTop;
    const first = Math.max(0, this.indexAt(top, exp) - OVERSCAN);
    let last = Math.min(count - 1, this.indexAt(top + viewport, exp) + OVERSCAN);
    if (last - first + 1 > MAX_DOM_ROWS) last = first + MAX_DOM_ROWS - 1;

    const next = this.keptRows(first, last);
    const free = this.releaseRows(next);
    // Pixel top of `first`: its rows plus the extra of expanded rows before it.
    let e = 0;
    let acc = 0;
    while (e < exp.length && exp[e].index < first) acc += exp[e++].extra;
    for (let d = first; d <= last; d++) {
      const item = this.displayAt(d);
      const key = item === null ? MARKER_KEY : item.n;
      const y = `${d * ROW_HEIGHT + acc}px`;
      let el = next.get(key);
      if (!el) {
        el = this.reusedRow(item, y, free) ?? this.newRow(item);
        el.dataset.v = this.versionOf(item);
        next.set(key, el);
      }
      if (el.style.top !== y) el.style.top = y;
      if (e < exp.length && exp[e].index === d) acc += exp[e++].extra;
    }
    for (const el of free.values()) el.remove();
    this.els = next;
    this.onRender();
  }

  /** The rows already in the DOM that still show an item of [first, last] as it is now. */
  private keptRows(first: number, last: number): Map<number, HTMLElement> {
    const kept = new Map<number, HTMLElement>();
    for (let d = first; d <= last; d++) {
      const item = this.displayAt(d);
      const key = item === null ? MARKER_KEY : item.n;
      const el = this.els.get(key);
      if (el && el.dataset.v === this.versionOf(item)) kept.set(key, el);
    }
    return kept;
  }

  /**
   * The other rows leave: plain record rows are returned for reuse (at a
   * high rate every row on screen changes each frame, and refilling a row's
   * text costs far less than styling and laying out new elements); the
   * rest (gaps, the marker, expanded rows) are removed.
   */
  private releaseRows(kept: Map<number, HTMLElement>): Map<string, HTMLElement> {
    const free = new Map<string, HTMLElement>();  // by style.top
    for (const [key, el] of this.els) {
      if (kept.get(key) === el) continue;
      if (this.parts.get(el)?.plain) free.set(el.style.top, el);
      else el.remove();
    }
    return free;
  }

  /**
   * A free row refilled for `item` at `top` (a plain record row only).
   * Following at a steady rate, the rows on screen keep their places while
   * their items change: the free row that was at `top` is taken first, so
   * that only its text changes, not its position (an inline style change
   * means a style recalc of the row).
   */
  private reusedRow(item: Item | null, top: string, free: Map<string, HTMLElement>): HTMLElement | undefined {
    if (item === null || item.kind !== "record" || item.expanded) return undefined;
    const reused = free.get(top) ?? free.values().next().value;
    if (reused) {
      free.delete(reused.style.top);
      this.fillRecord(reused, item);
    }
    return reused;
  }

  private newRow(item: Item | null): HTMLElement {
    const el = item === null ? this.markerRow() : item.kind === "gap" ? this.gapRow(item) : this.recordRow(item);
    this.rowsEl.appendChild(el);
    return el;
  }

  private versionOf(item: Item | null): string {
    if (item === null) return `m${this.store.dropped}`;
    if (item.kind === "gap") return "g";
    return `${this.epoch}:${item.expanded ? 1 : 0}`;
  }

  private markerRow(): HTMLElement {
    const el = document.createElement("div");
    el.className = "row dropped";
    el.dataset.count = String(this.store.dropped);
    el.textContent = `— ${this.store.dropped} older record${this.store.dropped === 1 ? "" : "s"} dropped from memory (the page keeps the last ${this.store.historyLimit}) —`;
    return el;
  }

  private gapRow(g: GapItem): HTMLElement {
    const el = document.createElement("div");
    el.className = "row gap";
    el.dataset.n = String(g.n);
    el.dataset.reason = g.reason;
    el.dataset.stream = g.stream;
    el.dataset.fromSeq = String(g.fromSeq);
    if (g.toSeq !== undefined) el.dataset.toSeq = String(g.toSeq);
    if (g.count !== undefined) el.dataset.count = String(g.count);
    el.textContent = gapText(g);
    el.title = el.textContent;
    return el;
  }

  private recordRow(item: RecordItem): HTMLElement {
    const el = this.emptyRecordRow();
    this.fillRecord(el, item);
    if (item.expanded) this.addDetails(el, item);
    return el;
  }

  /** A record row's elements, each with its text node, to be filled by fillRecord(). */
  private emptyRecordRow(): HTMLElement {
    const el = document.createElement("div");
    const line = document.createElement("div");
    line.className = "line";
    const span = (cls: string): [HTMLElement, Text] => {
      const s = document.createElement("span");
      s.className = cls;
      const t = document.createTextNode("");
      s.appendChild(t);
      return [s, t];
    };
    const caret = document.createElement("span");
    caret.className = "caret";
    const [time, timeText] = span("time");
    const [level, levelText] = span("level");
    const [layer, layerText] = span("layer");
    const [logger, loggerText] = span("logger");
    const msg = document.createElement("span");
    msg.className = "msg";
    line.append(caret, time, level, layer, logger, msg);
    el.appendChild(line);
    this.parts.set(el, { plain: true, time: timeText, level: levelText, layer: layerText, logger, loggerText, msg });
    return el;
  }

  /** Shows `item` in a record row, changing only what differs from what it showed. */
  private fillRecord(el: HTMLElement, item: RecordItem): void {
    const parts = this.parts.get(el) as RowParts;
    const r = item.rec;
    let cls = `row rec ${levelClass(r.level)}`;
    if (fieldCount(r) > 0) cls += " has-fields";
    if (item.expanded) cls += " expanded";
    if (this.highlight) {
      if (item.lower === undefined) item.lower = String(r.message ?? "").toLowerCase();
      if (item.lower.includes(this.highlight)) cls += " hl";
    }
    if (el.className !== cls) el.className = cls;
    el.dataset.n = String(item.n);
    el.dataset.seq = String(r.seq);
    el.dataset.stream = r.stream;
    el.dataset.level = r.level;
    el.dataset.layer = r.layer;
    setText(parts.time, shortTime(r.time));
    setText(parts.level, r.level);
    setText(parts.layer, r.layer);
    setText(parts.loggerText, r.logger ?? "");
    if (parts.logger.hidden !== !r.logger) parts.logger.hidden = !r.logger;
    const message = String(r.message ?? "");
    if (item.spans === undefined) item.spans = byteRangesToIndices(message, r.redacted);
    const only = parts.msg.firstChild;
    if (item.spans.length === 0 && only instanceof Text && only === parts.msg.lastChild) {
      setText(only, message);
    } else {
      parts.msg.textContent = "";
      renderMessage(parts.msg, message, item.spans);
    }
    parts.msg.title = message;
  }

  /** An expanded row: its details below the line (such a row is never reused). */
  private addDetails(el: HTMLElement, item: RecordItem): void {
    const r = item.rec;
    (this.parts.get(el) as RowParts).plain = false;
    el.style.height = `${ROW_HEIGHT + extraHeight(item)}px`;
    const details = document.createElement("div");
    details.className = "details";
    details.style.height = `${extraHeight(item) - DETAIL_PADDING + 4}px`;
    const meta = document.createElement("div");
    meta.className = "meta";
    meta.textContent = `${r.time}  seq ${r.seq}  stream ${r.stream}  service ${r.service}  tenant ${r.tenant}` +
      (r.logger ? `  logger ${r.logger}` : "") + (r.sub && r.sub.length ? `  sub ${r.sub.join(",")}` : "");
    details.appendChild(meta);
    const fields = r.fields && typeof r.fields === "object" ? Object.entries(r.fields) : [];
    if (fields.length === 0) {
      const none = document.createElement("div");
      none.className = "meta";
      none.textContent = "(no fields)";
      details.appendChild(none);
    }
    for (const [k, v] of fields) {
      const f = document.createElement("div");
      f.className = "field-line";
      f.dataset.key = k;
      const key = document.createElement("span");
      key.className = "k";
      key.textContent = k;
      f.append(key, document.createTextNode(" = " + fieldText(v)));
      f.title = `${k} = ${fieldText(v)}`;
      details.appendChild(f);
    }
    el.appendChild(details);
  }
}
