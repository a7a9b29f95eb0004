// The package as people get it: `npm pack`, installed OFFLINE (its two dependencies travel in
// the tarball: bundleDependencies) into a scratch prefix and a scratch project. Then the three bins run from
// there: --version; kata-build builds a small guest and its image; kata-agent serves a unix
// socket and kata-agent-ctl gets its Health.Check answered. A TypeScript consumer imports
// kata-guest-toolkit/client and /builder, is type-checked by tsc against the shipped
// declarations (a misuse is refused), and runs against that agent.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureAgentBuilt, ensureBuilderBundle, repo } from "../../helpers/builder-agent.js";
import { smallBaseTar } from "../../helpers/small-guest.js";

const scratch = () => mkdtempSync(path.join(tmpdir(), "kata-pack-"));
const npm = (args: string[], cwd: string) =>
  execa("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], { cwd, reject: false });

let tarball: string;
let files: string[];
let prefix: string;
const bin = (name: string) => path.join(prefix, "bin", name);

beforeAll(async () => {
  // What `npm pack` runs first (prepack: build, build:types), without rebuilding the agent's
  // bundle under other test files that run it (`npm test` builds it first).
  ensureAgentBuilt();
  ensureBuilderBundle();
  execFileSync("npm", ["run", "--silent", "build:types"], { cwd: repo, stdio: "inherit" });
  const dest = scratch();
  const packed = await npm(["pack", "--ignore-scripts", "--json", "--pack-destination", dest], repo);
  expect(packed.exitCode, packed.stderr).toBe(0);
  const [info] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
  tarball = path.join(dest, info.filename);
  files = info.files.map((f) => f.path);
  prefix = scratch();
  const installed = await npm(["install", "-g", "--offline", "--prefix", prefix, tarball], repo);
  expect(installed.exitCode, installed.stderr).toBe(0);
}, 300_000);

describe("npm pack", () => {
  it("holds the bundles, the prebuilt addon, the declarations and the data, and no tests or sources", () => {
    for (const f of [
      "agent/bin/kata-agent.mjs",
      "agent/dist/kata-agent.mjs",
      "agent/dist/kata-agent-ctl.mjs",
      "agent/dist/kata_native.node",
      "agent/dist/kata-agent.packages.json",
      // The start-up snapshot's entry and checker, and what both bundles load with require().
      "agent/dist/kata-agent-snapshot.cjs",
      "agent/dist/kata-agent-snapshot-check",
      "agent/dist/vendor/grpc-js.cjs",
      "agent/native/snapshot_check.c",
      "builder/dist/kata-build.mjs",
      "builder/dist/lib/builder.mjs",
      "builder/dist/lib/client.mjs",
      "builder/dist/types/builder/src/api/index.d.ts",
      "builder/dist/types/agent/src/client/index.d.ts",
      "rootfs/common/usr/lib/systemd/system/kata-agent.service",
      "rootfs/kernel/versions.conf",
      "examples/custom-guest.mjs",
    ]) {
      expect(files, f).toContain(f);
    }
    // The two dependencies travel inside it (bundleDependencies), and nothing else of node_modules.
    const own = files.filter((f) => !f.startsWith("node_modules/"));
    const modules = new Set(
      files
        .filter((f) => f.startsWith("node_modules/"))
        .map((f) =>
          f
            .split("/")
            .slice(1, f.startsWith("node_modules/@") ? 3 : 2)
            .join("/"),
        ),
    );
    expect([...modules].sort()).toEqual(["@bufbuild/protobuf", "zx"]);
    expect(own.filter((f) => f.startsWith("test/") || f.endsWith(".test.ts"))).toEqual([]);
    expect(own.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
    expect(own.filter((f) => f.endsWith(".map"))).toEqual([]);
    // Every library chunk it holds is one the library loads (none left from an earlier build).
    const chunks = own.filter((f) => f.startsWith("builder/dist/lib/") && f.includes("/chunks/"));
    const lib = own
      .filter((f) => f.startsWith("builder/dist/lib/"))
      .map((f) => readFileSync(path.join(repo, f), "utf8"));
    for (const chunk of chunks)
      expect(
        lib.some((text) => text.includes(path.basename(chunk))),
        chunk,
      ).toBe(true);
    const pkg = JSON.parse(readFileSync(path.join(repo, "package.json"), "utf8"));
    expect(pkg.private).toBe(true);
  });
});

describe("the installed bins", () => {
  it("print their versions", async () => {
    const version = JSON.parse(readFileSync(path.join(repo, "package.json"), "utf8")).version as string;
    for (const name of ["kata-agent", "kata-agent-ctl", "kata-build"]) {
      const r = await execa(bin(name), ["--version"], { reject: false });
      expect(r.exitCode, name).toBe(0);
      expect(r.stdout, name).toMatch(new RegExp(`^${name} ${version.replace(/\./g, "\\.")} `));
    }
  });

  it("kata-build builds a small guest and its image from the installed package", async () => {
    const out = scratch();
    const guest = await execa(
      bin("kata-build"),
      [
        "rootfs",
        "--distro",
        "debian",
        "--from-tar",
        smallBaseTar(),
        "--agent-init",
        "--out",
        out,
        "-q",
        "--json",
      ],
      { reject: false },
    );
    expect(guest.stderr).toBe("");
    const { root } = JSON.parse(guest.stdout) as { root: string };
    const image = await execa(bin("kata-build"), ["image", "--rootfs", root, "--out", out, "-q", "--json"], {
      reject: false,
    });
    expect(image.exitCode, image.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(JSON.parse(image.stdout).manifest, "utf8"));
    expect(manifest.outputs[0]).toMatchObject({ name: "kata-containers.img", kind: "file" });
    // The agent it laid in is the package's own.
    const installedAgent = path.join(
      prefix,
      "lib",
      "node_modules",
      "kata-guest-toolkit",
      "agent",
      "dist",
      "kata-agent.mjs",
    );
    expect(readFileSync(path.join(root, "usr/lib/kata-agent/kata-agent.mjs"))).toEqual(
      readFileSync(installedAgent),
    );
  });

  it("kata-agent serves a unix socket, kata-agent-ctl's Check is answered, and a typed consumer talks to it", async () => {
    const dir = scratch();
    const socket = path.join(dir, "agent.sock");
    const agent = execa(bin("kata-agent"), ["--cmdline", "/dev/null"], {
      reject: false,
      env: { KATA_AGENT_SERVER_ADDR: `unix://${socket}`, KATA_AGENT_RUN_DIR: path.join(dir, "run") },
    });
    try {
      const check = await execa(
        bin("kata-agent-ctl"),
        ["--addr", `unix://${socket}`, "--connect-timeout", "20s", "Check"],
        { reject: false },
      );
      expect(check.stderr).toBe("");
      expect(JSON.parse(check.stdout)).toEqual({ status: "SERVING" });
      await typedConsumer(`unix://${socket}`);
    } finally {
      agent.kill("SIGTERM");
      await agent;
    }
  }, 180_000);
});

/** A TypeScript ESM project using the package: type-checked, then run. */
async function typedConsumer(address: string): Promise<void> {
  const project = scratch();
  writeFileSync(
    path.join(project, "package.json"),
    JSON.stringify({ name: "consumer", private: true, type: "module" }),
  );
  const installed = await npm(["install", "--offline", tarball], project);
  expect(installed.exitCode, installed.stderr).toBe(0);
  writeFileSync(
    path.join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        skipLibCheck: false,
        types: ["node"],
        // Node's own types, from this repository (the package's declarations refer to them).
        typeRoots: [path.join(repo, "node_modules", "@types")],
        outDir: "out",
      },
      include: ["src"],
    }),
  );
  mkdirSync(path.join(project, "src"));
  writeFileSync(
    path.join(project, "src", "main.ts"),
    [
      'import { connect, Code, type AgentClient } from "kata-guest-toolkit/client";',
      'import { initrdOptions, type ImageOptions, type ProgressEvent, UsageError, image } from "kata-guest-toolkit/builder";',
      'import { builder, version } from "kata-guest-toolkit";',
      "",
      'const options: ImageOptions = { fs: "erofs", verity: true, format: "qcow2" };',
      "const events: ProgressEvent[] = [];",
      "const client: AgentClient = await connect(process.argv[2]!, { timeoutMs: 5000 });",
      'const { status } = await client.health.check({ service: "" });',
      "const reply = await client.agent.getGuestDetails({ memBlockSize: true });",
      "client.close();",
      'let refused = "";',
      "try {",
      '  await image({ rootfs: "/nonexistent", fs: "btrfs" }, { onProgress: (e) => events.push(e) });',
      "} catch (err) {",
      "  if (err instanceof UsageError) refused = err.message;",
      "}",
      "console.log(JSON.stringify({ status, memBlockSize: String(reply.memBlockSizeBytes), refused, options, version, same: builder.image === image, compression: initrdOptions.compression.default, code: Code.NotFound }));",
      "",
    ].join("\n"),
  );
  const tsc = path.join(repo, "node_modules", "typescript", "bin", "tsc");
  const compiled = await execa(process.execPath, [tsc, "-p", project], { reject: false });
  expect(compiled.stdout + compiled.stderr).toBe("");
  const ran = await execa(process.execPath, [path.join(project, "out", "main.js"), address], {
    reject: false,
    cwd: project,
  });
  expect(ran.stderr).toBe("");
  expect(JSON.parse(ran.stdout)).toMatchObject({
    status: 1,
    refused: "--fs: 'btrfs' is not one of ext4, erofs",
    options: { fs: "erofs" },
    same: true,
    compression: "zstd",
    code: 5,
  });
  // The declarations are real types: a misuse does not compile.
  writeFileSync(
    path.join(project, "src", "wrong.ts"),
    'import { image } from "kata-guest-toolkit/builder";\nawait image({ verity: "yes" });\n',
  );
  const wrong = await execa(process.execPath, [tsc, "-p", project, "--noEmit"], { reject: false });
  expect(wrong.exitCode).not.toBe(0);
  expect(wrong.stdout).toMatch(/src\/wrong\.ts.*Type 'string' is not assignable to type 'boolean/);
}
