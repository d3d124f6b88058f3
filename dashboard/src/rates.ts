// Records per second per layer over the last 60 s: one 60-bucket ring per
// layer, O(1) per layer and slice of records; drawn as a canvas sparkline
// once a second.
const SECONDS = 60;
const W = 120;
const H = 22;

interface LayerRate {
  buckets: Uint32Array;
  last: number;  // the second of the newest bucket
  el: HTMLElement;
  canvas: HTMLCanvasElement;
  value: HTMLElement;
}

export class Rates {
  private layers = new Map<string, LayerRate>();

  constructor(private readonly container: HTMLElement, private readonly now: () => number = () => Date.now()) {}

  /** Counts `count` records of `layer` at this second (the page counts a slice of records at once). */
  note(layer: string, count = 1, second = Math.floor(this.now() / 1000)): void {
    let r = this.layers.get(layer);
    if (!r) r = this.add(layer, second);
    this.advance(r, second);
    r.buckets[second % SECONDS] += count;
  }

  private advance(r: LayerRate, second: number): void {
    if (second <= r.last) return;
    const steps = Math.min(second - r.last, SECONDS);
    for (let i = 1; i <= steps; i++) r.buckets[(r.last + i) % SECONDS] = 0;
    r.last = second;
  }

  private add(layer: string, second: number): LayerRate {
    const el = document.createElement("div");
    el.className = "rate";
    el.dataset.layer = layer;
    el.title = `${layer}: records/s received over the last 60 s`;
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = layer;
    const canvas = document.createElement("canvas");
    const dpr = Math.max(1, Math.round(window.devicePixelRatio || 1));
    canvas.width = W * dpr;
    canvas.height = H * dpr;
    canvas.style.width = `${W}px`;
    canvas.style.height = `${H}px`;
    const value = document.createElement("span");
    value.className = "value";
    el.append(name, canvas, value);
    // Keep the layers in name order.
    const after = [...this.container.children].find((c) => (c as HTMLElement).dataset.layer! > layer);
    this.container.insertBefore(el, after ?? null);
    const r: LayerRate = { buckets: new Uint32Array(SECONDS), last: second, el, canvas, value };
    this.layers.set(layer, r);
    value.textContent = "0/s";
    return r;
  }

  /** The per-second counts, oldest first, ending with the current second. */
  series(layer: string, second = Math.floor(this.now() / 1000)): number[] {
    const r = this.layers.get(layer);
    if (!r) return [];
    this.advance(r, second);
    const out: number[] = [];
    for (let s = second - SECONDS + 1; s <= second; s++) out.push(r.buckets[((s % SECONDS) + SECONDS) % SECONDS]);
    return out;
  }

  draw(): void {
    const second = Math.floor(this.now() / 1000);
    for (const [layer, r] of this.layers) {
      const data = this.series(layer, second);
      // The current second is still filling: show the complete ones.
      const complete = data.slice(0, -1);
      const current = complete[complete.length - 1] ?? 0;
      const peak = Math.max(0, ...complete);
      r.value.textContent = `${current}/s`;
      r.el.dataset.rate = String(current);
      r.el.dataset.peak = String(peak);
      r.canvas.title = `${layer}: now ${current}/s, peak ${peak}/s over the last 60 s`;
      const ctx = r.canvas.getContext("2d");
      if (!ctx) continue;
      const dpr = r.canvas.width / W;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, W, H);
      ctx.fillStyle = "#3a3a3a";
      ctx.fillRect(0, H - 1, W, 1);
      const max = Math.max(1, peak);
      const bar = W / complete.length;
      ctx.fillStyle = "#c35fc3";
      complete.forEach((v, i) => {
        if (v === 0) return;
        const h = Math.max(1.5, (v / max) * (H - 3));
        ctx.fillRect(i * bar, H - 1 - h, Math.max(1, bar - 0.5), h);
      });
    }
  }
}
