// After tsc: copies static/ (index.html, style.css) into dist/ and the
// TypeScript SDK's built modules (../clients/ts/dist/*.js) into dist/sdk/,
// where index.html's import map points the bare name "hydra-bridge-client".
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
mkdirSync(dist, { recursive: true });
for (const name of readdirSync(join(root, "static"))) {
  copyFileSync(join(root, "static", name), join(dist, name));
}
const sdkDist = join(root, "..", "clients", "ts", "dist");
if (!existsSync(join(sdkDist, "index.js"))) {
  console.error(`copy-static: ${sdkDist}/index.js is missing: build the SDK first (cd ../clients/ts && npm run build)`);
  process.exit(1);
}
const sdkOut = join(dist, "sdk");
rmSync(sdkOut, { recursive: true, force: true });
mkdirSync(sdkOut, { recursive: true });
let copied = 0;
for (const name of readdirSync(sdkDist)) {
  if (name.endsWith(".js")) {
    copyFileSync(join(sdkDist, name), join(sdkOut, name));
    copied++;
  }
}
console.log(`copy-static: static files -> dist/, ${copied} SDK module(s) -> dist/sdk/`);
