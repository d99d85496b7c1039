// Copies the browser bundle of livekit-client (its UMD build, which exposes
// window.LivekitClient) into the Python package's static assets.
import { copyFileSync, mkdirSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, "node_modules", "livekit-client", "dist", "livekit-client.umd.js");
const outDir = join(here, "..", "src", "voxa", "web", "static", "vendor");
if (!existsSync(src)) {
  console.error(`missing ${src}: run npm ci first`);
  process.exit(1);
}
mkdirSync(outDir, { recursive: true });
copyFileSync(src, join(outDir, "livekit-client.umd.js"));
console.log(`livekit-client -> ${join(outDir, "livekit-client.umd.js")}`);
