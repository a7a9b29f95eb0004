#!/usr/bin/env node
// Regenerates agent/gen/ from the .proto files with protoc + protoc-gen-es.
// `node agent/proto/generate.mjs --out DIR` writes elsewhere (the staleness test uses it).
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const protoDir = dirname(fileURLToPath(import.meta.url));
const root = resolve(protoDir, "../..");
const outArg = process.argv.indexOf("--out");
const out = outArg > 0 ? resolve(process.argv[outArg + 1]) : join(root, "agent/gen");
const files = [
  "health.proto",
  "types.proto",
  "csi.proto",
  "oci.proto",
  "agent.proto",
  "ttrpc/ttrpc.proto",
  "ext/features.proto",
  "grpc/reflection/reflection.proto",
];

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
try {
  execFileSync(
    "protoc",
    [
      `--plugin=protoc-gen-es=${join(root, "node_modules/.bin/protoc-gen-es")}`,
      `--es_out=${out}`,
      "--es_opt=target=ts,import_extension=js",
      `-I${protoDir}`,
      "-I/usr/include",
      ...files,
    ],
    { cwd: protoDir, stdio: "inherit" },
  );
} catch (err) {
  if (err.code === "ENOENT") {
    console.error(
      "protoc not found: install it with `apt-get install protobuf-compiler` (or run npm run setup)",
    );
    process.exit(1);
  }
  throw err;
}
