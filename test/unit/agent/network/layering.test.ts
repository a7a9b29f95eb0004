// The network manager sits below the RPC layer: it may use core/, log and the generated
// messages, never rpc/, ttrpc/, grpc/ or transport/.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../../agent/src", import.meta.url));
const networkDir = join(root, "network");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

describe("agent/src/network imports", () => {
  it("never reach the layers above it", () => {
    const files = sources(networkDir);
    expect(files.length).toBeGreaterThan(5);
    const offending: string[] = [];
    for (const file of files) {
      for (const m of readFileSync(file, "utf8").matchAll(/from\s+"(\.[^"]+)"/g)) {
        const target = relative(root, resolve(join(file, ".."), m[1]!));
        if (/^(rpc|ttrpc|grpc|transport)\//.test(target))
          offending.push(`${relative(root, file)} -> ${target}`);
      }
    }
    expect(offending).toEqual([]);
  });
});
