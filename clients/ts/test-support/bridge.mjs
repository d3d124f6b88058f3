// What the tests share: the app under test (hydra_bridge_app, driven over
// stdin), its configuration, its JSON file destination, and waiting for a
// client's events with a timeout (never a fixed sleep). Not a test file
// itself: it lives outside test/ so that `node --test test/` does not run it.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

// Default: the repository's build (clients/ts/../../build/tests/hydra_bridge_app).
export const APP_PATH =
  process.env.HYDRA_BRIDGE_APP || fileURLToPath(new URL("../../../build/tests/hydra_bridge_app", import.meta.url));
/** For `test(name, { skip: SKIP }, ...)`: false, or why the suite cannot run. */
export const SKIP = existsSync(APP_PATH)
  ? false
  : `hydra_bridge_app not found at ${APP_PATH}: build the C++ tests (target hydra_bridge_app) or set HYDRA_BRIDGE_APP`;
// Under ctest (HYDRA_REQUIRE_BRIDGE_APP=1) a missing app is a failure, not a skip.
if (SKIP && process.env.HYDRA_REQUIRE_BRIDGE_APP) throw new Error(SKIP);

// Generous: a loaded machine (2 cores, a C++ build beside) must pass; they
// only cost time when something is wrong.
export const WAIT = 10_000;

export function sha256hex(text) {
  return createHash("sha256").update(text).digest("hex");
}

export function tempDir(prefix = "hydra-ts-") {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir) {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // best effort
  }
}

function toml(value) {
  if (typeof value === "boolean" || typeof value === "number") return String(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "[" + value.map(toml).join(", ") + "]";
  throw new TypeError(`no TOML for ${value}`);
}

/** The app's configuration: DEFAULT at debug, a bridge (listen 127.0.0.1:0, batch_window 50ms, + `bridge`) and a JSON file. */
export function makeConfig(logPath, bridge = {}, top = { redact: true }) {
  const lines = Object.entries(top).map(([k, v]) => `${k} = ${toml(v)}`);
  const options = { type: "bridge", listen: "127.0.0.1:0", batch_window: "50ms", ...bridge };
  lines.push("", "[layers.DEFAULT]", 'level = "debug"', "", "[[layers.DEFAULT.destinations]]");
  for (const [k, v] of Object.entries(options)) lines.push(`${k} = ${toml(v)}`);
  lines.push("", "[[layers.DEFAULT.destinations]]", 'type = "file"', `path = ${toml(logPath)}`, 'format = "json"', "");
  return lines.join("\n");
}

const LISTENING = /listening (http:\/\/127\.0\.0\.1:(\d+))\/?\s*$/;

/** hydra_bridge_app with a configuration; cmd() sends one command and waits for its `ok`. */
export class App {
  static async start(dir, bridge = {}, top = { redact: true }, name = "bridge.toml") {
    const app = new App(dir, bridge, top, name);
    await app.started;
    return app;
  }

  constructor(dir, bridge, top, name) {
    this.dir = dir;
    this.logPath = join(dir, "app.jsonl");
    this.configText = makeConfig(this.logPath, bridge, top);
    this.configPath = join(dir, name);
    writeFileSync(this.configPath, this.configText);
    this.stderr = "";
    this.lines = [];
    this.waiters = [];
    this.exited = null;
    this.proc = spawn(APP_PATH, [this.configPath], { cwd: dir, stdio: ["pipe", "pipe", "pipe"] });
    this.proc.stderr.setEncoding("utf8");
    this.proc.stderr.on("data", (d) => {
      this.stderr = (this.stderr + d).slice(-8000);
    });
    this.proc.stdin.on("error", () => {}); // a killed app: EPIPE
    this.proc.on("exit", (code, signal) => {
      this.exited = { code, signal };
      for (const w of this.waiters.splice(0)) w.reject(this.error("the app exited"));
    });
    createInterface({ input: this.proc.stdout }).on("line", (line) => {
      const w = this.waiters.shift();
      if (w) w.resolve(line);
      else this.lines.push(line);
    });
    this.started = (async () => {
      for (;;) {
        const line = await this.nextLine(20_000, "the `listening http://127.0.0.1:<port>/` line");
        const m = LISTENING.exec(line.trim());
        if (m) {
          this.httpUrl = m[1];
          this.port = Number(m[2]);
          this.wsUrl = `ws://127.0.0.1:${this.port}/ws`;
          return;
        }
      }
    })();
  }

  error(what) {
    const state = this.exited ? `exited (${this.exited.code ?? this.exited.signal})` : "running";
    return new Error(`${what} (hydra_bridge_app ${state})\n--- config ---\n${this.configText}\n--- stderr ---\n${this.stderr}`);
  }

  nextLine(timeout, what) {
    if (this.lines.length > 0) return Promise.resolve(this.lines.shift());
    if (this.exited) return Promise.reject(this.error(`waiting for ${what}`));
    return new Promise((resolve, reject) => {
      const w = {
        resolve: (l) => {
          clearTimeout(t);
          resolve(l);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      };
      const t = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(this.error(`timed out after ${timeout} ms waiting for ${what}`));
      }, timeout);
      this.waiters.push(w);
    });
  }

  /** One command; resolves on its `ok`. Commands run one at a time. */
  cmd(line, timeout = 60_000) {
    const run = async () => {
      if (this.exited) throw this.error(`command ${line}`);
      this.proc.stdin.write(line + "\n");
      const reply = await this.nextLine(timeout, `\`ok\` for ${JSON.stringify(line)}`);
      if (reply.trim() !== "ok") throw this.error(`command ${JSON.stringify(line)} answered ${JSON.stringify(reply)}`);
    };
    this.chain = (this.chain ?? Promise.resolve()).catch(() => {}).then(run);
    return this.chain;
  }

  log(layer, level, message) {
    return this.cmd(`log ${layer} ${level} ${message}`);
  }

  burst(count, layer, level = "info") {
    return this.cmd(`burst ${count} ${layer} ${level}`);
  }

  flush() {
    return this.cmd("flush");
  }

  /** The JSON file destination's records. */
  fileRecords() {
    if (!existsSync(this.logPath)) return [];
    return readFileSync(this.logPath, "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l));
  }

  /** SIGKILL, and wait for the exit. */
  async kill() {
    if (this.exited) return;
    const gone = new Promise((resolve) => this.proc.once("exit", resolve));
    this.proc.kill("SIGKILL");
    await gone;
  }

  /** quit, then SIGKILL after `timeout` ms. */
  async stop(timeout = 10_000) {
    if (this.exited) return this.exited;
    const gone = new Promise((resolve) => this.proc.once("exit", (code, signal) => resolve({ code, signal })));
    try {
      this.proc.stdin.end("quit\n");
    } catch {
      // already closed
    }
    const t = setTimeout(() => this.proc.kill("SIGKILL"), timeout);
    const result = await gone;
    clearTimeout(t);
    return result;
  }
}

/** Flushes, then waits (flushing again) until done(fileRecords) holds. */
export async function waitFile(app, done, what, timeout = WAIT) {
  const deadline = Date.now() + timeout;
  for (;;) {
    await app.flush();
    const records = app.fileRecords();
    if (done(records)) return records;
    if (Date.now() > deadline) {
      throw new Error(`${what}: not in the file destination after ${timeout} ms; last lines:\n` +
        records.slice(-8).map((r) => JSON.stringify(r)).join("\n"));
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function describe(events, limit = 15) {
  const parts = events.slice(-limit).map((e) => {
    if (e.kind === "record") return `record ${e.record.stream}#${e.record.seq} ${e.record.layer}/${e.record.level} ${JSON.stringify(e.record.message)}`;
    if (e.kind === "gap") return `gap ${e.reason} ${e.stream} ${e.fromSeq}..${e.toSeq ?? ""} count=${e.count ?? ""}`;
    return `state ${e.state}${e.code !== undefined ? " " + e.code : ""}${e.reason ? " " + e.reason : ""}`;
  });
  return parts.length ? parts.join("; ") : "nothing";
}

/** Every event of a client, from now on; until() waits for a condition on them. */
export class Collector {
  constructor(client) {
    this.events = [];
    this.checks = new Set();
    this.off = client.onEvent((e) => {
      this.events.push(e);
      for (const c of [...this.checks]) c();
    });
  }

  get records() {
    return this.events.filter((e) => e.kind === "record").map((e) => e.record);
  }

  get gaps() {
    return this.events.filter((e) => e.kind === "gap");
  }

  get states() {
    return this.events.filter((e) => e.kind === "state").map((e) => e.state);
  }

  /** Resolves when done(events) holds; rejects after `timeout` naming `what`. */
  until(done, what, timeout = WAIT) {
    if (done(this.events)) return Promise.resolve(this.events);
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done(this.events)) return;
        this.checks.delete(check);
        clearTimeout(t);
        resolve(this.events);
      };
      const t = setTimeout(() => {
        this.checks.delete(check);
        reject(new Error(`timed out after ${timeout} ms waiting for ${what}; received: ${describe(this.events)}`));
      }, timeout);
      this.checks.add(check);
    });
  }

  stop() {
    this.off();
  }
}

export const hasMessage = (message) => (events) =>
  events.some((e) => e.kind === "record" && e.record.message === message);

/** Polls cond() every 20 ms until it holds; rejects after `timeout` naming `what`. */
export async function waitUntil(cond, what, timeout = WAIT) {
  const deadline = Date.now() + timeout;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
