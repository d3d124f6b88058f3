// What the browser tests share: the app under test (hydra_bridge_app, driven
// over stdin), its configuration, its JSON file destination, Chromium, and
// waiting for conditions (never fixed sleeps).
import { spawn } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, createWriteStream } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const DASHBOARD = join(dirname(fileURLToPath(import.meta.url)), "..");
export const DIST = join(DASHBOARD, "dist");
export const APP =
  process.env.HYDRA_BRIDGE_APP || fileURLToPath(new URL("../../build/tests/hydra_bridge_app", import.meta.url));
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
/** Generous: a loaded machine (2 cores, a C++ build beside) still passes. */
export const WAIT = 10_000;

/** Why the browser tests cannot run here, or "" when they can. Under ctest
 * (HYDRA_REQUIRE_BRIDGE_APP=1) a missing piece is a failure, not a skip. */
export function skipReason() {
  const reason = missingReason();
  if (reason && process.env.HYDRA_REQUIRE_BRIDGE_APP) throw new Error(reason);
  return reason;
}

function missingReason() {
  if (!existsSync(APP)) return `${APP} is missing (build tests/bridge/app, or set HYDRA_BRIDGE_APP)`;
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing (set CHROMIUM)`;
  if (!existsSync(join(DIST, "index.html")) || !existsSync(join(DIST, "sdk", "index.js"))) {
    return `${DIST} is not built (npm run build)`;
  }
  return "";
}

export function sha256hex(text) {
  return createHash("sha256").update(text).digest("hex");
}

function b64url(buf) {
  return Buffer.from(buf).toString("base64url");
}

/** An HS256 JWT (sub, role, tenant, exp in an hour). */
export function jwt(secret, claims) {
  const header = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const body = b64url(JSON.stringify({ exp: Math.floor(Date.now() / 1000) + 3600, ...claims }));
  const sig = createHmac("sha256", secret).update(`${header}.${body}`).digest("base64url");
  return `${header}.${body}.${sig}`;
}

export function tempDir(prefix = "hydra-dash-") {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A free TCP port on 127.0.0.1 (for a bridge that must come back at the same port). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function tomlValue(v) {
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") return String(v);
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return "[" + v.map(tomlValue).join(", ") + "]";
  throw new TypeError(`no TOML for ${v}`);
}

/**
 * The app's configuration: redaction on, DEFAULT layer at debug with a bridge
 * destination serving the dashboard (listen 127.0.0.1:0, batch_window 50ms,
 * plus `bridge`) and a JSON file destination at logPath.
 */
export function makeConfig(logPath, bridge = {}, { level = "debug" } = {}) {
  const options = {
    type: "bridge",
    listen: "127.0.0.1:0",
    batch_window: "50ms",
    dashboard_dir: DIST,
    ...bridge,
  };
  return [
    "redact = true",
    "",
    "[layers.DEFAULT]",
    `level = ${tomlValue(level)}`,
    "",
    "[[layers.DEFAULT.destinations]]",
    ...Object.entries(options).map(([k, v]) => `${k} = ${tomlValue(v)}`),
    "",
    "[[layers.DEFAULT.destinations]]",
    'type = "file"',
    `path = ${tomlValue(logPath)}`,
    'format = "json"',
    "",
  ].join("\n");
}

/** hydra_bridge_app running a configuration; cmd() sends a line and waits for `ok`. */
export class App {
  static async start(dir, configText, { name = "bridge.toml" } = {}) {
    const app = new App(dir, configText, name);
    await app.started;
    return app;
  }

  constructor(dir, configText, name) {
    this.dir = dir;
    this.configText = configText;
    this.configPath = join(dir, name);
    writeFileSync(this.configPath, configText);
    this.stderrPath = join(dir, `app-${Date.now()}.stderr`);
    const stderr = createWriteStream(this.stderrPath);
    this.proc = spawn(APP, [this.configPath], { cwd: dir, stdio: ["pipe", "pipe", "pipe"] });
    this.proc.stderr.pipe(stderr);
    this.exited = new Promise((resolve) => this.proc.once("exit", (code, signal) => resolve({ code, signal })));
    this.lines = [];
    this.waiters = [];
    let buf = "";
    this.proc.stdout.setEncoding("utf8");
    this.proc.stdout.on("data", (chunk) => {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        const w = this.waiters.shift();
        if (w) w.resolve(line);
        else this.lines.push(line);
      }
    });
    this.proc.stdout.on("end", () => {
      for (const w of this.waiters.splice(0)) w.reject(new Error(this.describe("the app closed its stdout")));
      this.closed = true;
    });
    this.queue = Promise.resolve();
    this.started = (async () => {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const line = await this.nextLine(deadline - Date.now(), "the `listening http://127.0.0.1:<port>/` line");
        const m = /^listening (http:\/\/127\.0\.0\.1:(\d+))\/?$/.exec(line);
        if (m) {
          this.url = m[1] + "/";
          this.port = Number(m[2]);
          return;
        }
      }
    })();
  }

  describe(what) {
    let stderr = "";
    try {
      stderr = readFileSync(this.stderrPath, "utf8").slice(-3000);
    } catch {}
    return `${what}\n--- config ---\n${this.configText}\n--- app stderr (tail) ---\n${stderr}`;
  }

  nextLine(timeoutMs, what) {
    if (this.lines.length > 0) return Promise.resolve(this.lines.shift());
    if (this.closed) return Promise.reject(new Error(this.describe(`the app closed its stdout (waiting for ${what})`)));
    return new Promise((resolve, reject) => {
      const w = { resolve, reject };
      const t = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(this.describe(`timed out after ${timeoutMs} ms waiting for ${what}`)));
      }, Math.max(timeoutMs, 10));
      w.resolve = (line) => {
        clearTimeout(t);
        resolve(line);
      };
      w.reject = (e) => {
        clearTimeout(t);
        reject(e);
      };
      this.waiters.push(w);
    });
  }

  /** Sends one command line; resolves when the app answered `ok`. Commands run one at a time. */
  cmd(line, timeoutMs = 60_000) {
    const run = async () => {
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
        throw new Error(this.describe(`the app is not running (command ${JSON.stringify(line)})`));
      }
      this.proc.stdin.write(line + "\n");
      const reply = await this.nextLine(timeoutMs, `\`ok\` for ${JSON.stringify(line)}`);
      if (reply !== "ok") throw new Error(this.describe(`${JSON.stringify(line)} was answered ${JSON.stringify(reply)}`));
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => {});
    return p;
  }

  log(layer, level, message) {
    return this.cmd(`log ${layer} ${level} ${message}`);
  }

  kill() {
    this.proc.kill("SIGKILL");
    return this.exited;
  }

  async stop() {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    try {
      this.proc.stdin.end("quit\n");
    } catch {}
    const t = setTimeout(() => this.proc.kill("SIGKILL"), 5000);
    await this.exited;
    clearTimeout(t);
  }
}

/** The JSON lines of the app's file destination (a partial last line is skipped). */
export function readRecords(path) {
  if (!existsSync(path)) return [];
  const out = [];
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line));
    } catch {}
  }
  return out;
}

/** Polls `fn` until it returns a truthy value (returned), or throws after timeoutMs. */
export async function until(fn, what, timeoutMs = WAIT, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Records of the file at `path` that `pred` accepts, once there are at least `n` (flushing the app between looks). */
export async function fileRecords(app, path, pred, n = 1, what = "records in the file") {
  return until(async () => {
    await app.cmd("flush");
    const found = readRecords(path).filter(pred);
    return found.length >= n ? found : null;
  }, `${n} ${what} in ${path}`, WAIT, 100);
}

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Chromium with a fresh profile; close() removes it. */
export async function launchBrowser() {
  const { chromium } = await import("playwright-core");
  const profile = tempDir("hydra-chromium-");
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 720 },
    acceptDownloads: true,
  });
  const close = async () => {
    await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}

/** A new page of the dashboard at `app.url` (query: token, backlog ...); its console errors are collected. */
export async function openDashboard(context, app, query = {}, setup = async () => {}) {
  const page = await context.newPage();
  await setup(page);
  page.consoleErrors = [];
  page.on("console", (m) => {
    if (m.type() === "error") page.consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => page.consoleErrors.push(String(e)));
  const qs = new URLSearchParams(query).toString();
  await page.goto(app.url + (qs ? `?${qs}` : ""));
  return page;
}

/** Waits until the dashboard's connection is open and its subscription applied. */
export async function waitReady(page) {
  await page.waitForSelector('#state[data-state="open"]', { timeout: WAIT });
  await page.waitForSelector('#filter-status[data-state="applied"]', { timeout: WAIT });
}

/** Waits for a record row whose message contains `text`; returns its handle. */
export async function waitForRow(page, text, timeout = WAIT) {
  await page.waitForFunction(
    (t) => [...document.querySelectorAll("#rows .row.rec .msg")].some((m) => m.textContent.includes(t)),
    text,
    { timeout, polling: "raf" },
  );
}

export function stats(page) {
  return page.evaluate(() => window.hydraDashboard.stats());
}

/** Every message in the page's memory (not only the rows in the DOM). */
export function messagesInMemory(page) {
  return page.evaluate(() => [...window.hydraDashboard.store.history].filter((i) => i.kind === "record").map((i) => i.rec.message));
}

export function uid() {
  return Math.random().toString(36).slice(2, 10);
}
