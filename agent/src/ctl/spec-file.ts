// `kata-agent-ctl CreateContainer --spec PATH`: the container's OCI spec from a runtime-spec
// config.json (as `runc spec` writes it) or a bundle directory holding one, so a container can
// be created without writing the protobuf Spec's JSON by hand. As runc does, a relative
// root.path is taken from the bundle directory.
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import { type Spec, SpecSchema } from "../../gen/oci_pb.js";
import { UsageError } from "../cli/index.js";
import { fromRuntimeSpec } from "../client/index.js";

export function readSpecFile(given: string): Spec {
  const isDir = statSafe(given)?.isDirectory() ?? false;
  const file = isDir ? path.join(given, "config.json") : given;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(
      `--spec: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give a config.json or a bundle directory with one (runc spec writes one)`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--spec: ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new UsageError(`--spec: ${file} must hold a runtime-spec JSON object`);
  }
  const spec = create(SpecSchema, fromRuntimeSpec(json));
  if (spec.Root?.Path && !path.isAbsolute(spec.Root.Path)) {
    spec.Root.Path = path.resolve(path.dirname(path.resolve(file)), spec.Root.Path);
  }
  return spec;
}

function statSafe(p: string) {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}
