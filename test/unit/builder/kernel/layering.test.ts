// The kernel builder's layers import one way only:
//   commands/kernel.ts → kernel/{pipeline,bench,index} → kernel/stages → kernel/kconfig, tools, util
// The Kconfig engine knows nothing of stages, tools or the filesystem layout of the cache, and the
// tool modules know nothing of kernels.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { repoPath } from "../../../helpers/kernel-source.js";

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith(".ts") ? [path] : [];
  });
}

function imports(path: string): string[] {
  return [...readFileSync(path, "utf8").matchAll(/^(?:import|export)[^;]*?from "([^"]+)"/gm)].map(
    (m) => m[1]!,
  );
}

const src = repoPath("builder", "src");
const rel = (path: string) => relative(src, path);

describe("kernel builder layering", () => {
  it("keeps the Kconfig engine self-contained", () => {
    for (const file of files(join(src, "kernel", "kconfig"))) {
      for (const spec of imports(file)) {
        expect(spec.startsWith("node:") || spec.startsWith("./"), `${rel(file)} imports ${spec}`).toBe(true);
      }
    }
  });

  it("keeps stages below the pipeline, and the kernel code below the command", () => {
    for (const file of files(join(src, "kernel"))) {
      for (const spec of imports(file)) {
        expect(spec, rel(file)).not.toMatch(/commands\//);
        if (rel(file).startsWith("kernel/stages/") || rel(file).startsWith("kernel/smoke/")) {
          expect(spec, rel(file)).not.toMatch(/\/(pipeline|bench|index)\.js$/);
        }
      }
    }
  });

  it("keeps the tool modules free of kernel knowledge", () => {
    for (const name of ["make.ts", "untar.ts", "qemu-system.ts"]) {
      for (const spec of imports(join(src, "tools", name))) {
        expect(spec, name).not.toMatch(/kernel\//);
      }
    }
  });
});
