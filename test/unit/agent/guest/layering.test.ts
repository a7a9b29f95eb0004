// agent/src/guest is a manager: it may use core/, log.ts, native/ and the generated messages, never the
// RPC layer, the wires (ttrpc, grpc), the transports, or another manager.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const src = fileURLToPath(new URL("../../../../agent/src", import.meta.url));
const allowed = /^(guest\/|core\/|log\.ts$|native\/|\.\.\/gen\/)/;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

describe("agent/src/guest imports", () => {
  it("stay below the RPC layer", () => {
    const files = sources(join(src, "guest"));
    expect(files.length).toBeGreaterThan(5);
    const offending: string[] = [];
    for (const file of files) {
      for (const m of readFileSync(file, "utf8").matchAll(/from\s+"(\.[^"]+)"/g)) {
        const target = relative(src, resolve(join(file, ".."), m[1]!)).replace(/\.js$/, ".ts");
        if (!allowed.test(target)) offending.push(`${relative(src, file)} -> ${target}`);
      }
    }
    expect(offending).toEqual([]);
  });
});
