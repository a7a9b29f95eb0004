#!/usr/bin/env node
// Runs the bundled kata-agent-ctl; `npm run build` creates it.
import { existsSync } from "node:fs";

const bundle = new URL("../dist/kata-agent-ctl.mjs", import.meta.url);
if (!existsSync(bundle)) {
  process.stderr.write("kata-agent-ctl is not built yet: run `npm run build` in the repository first\n");
  process.exit(1);
}
await import(bundle.href);
