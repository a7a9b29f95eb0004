// A small root filesystem base for builder tests that need no distribution: busybox (from
// Debian's busybox-static, as the container tests use) as a tarball for `rootfs --from-tar`.
// A guest built from it has the agent, its files and an init, and builds in seconds.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { busyboxRootfs } from "./oci.js";

let tarball: string | undefined;

export function smallBaseTar(): string {
  if (tarball && existsSync(tarball)) return tarball;
  const file = path.join(mkdtempSync(path.join(tmpdir(), "small-base-")), "base.tar");
  execFileSync("tar", ["-C", busyboxRootfs(), "--numeric-owner", "--owner=0", "--group=0", "-cf", file, "."]);
  tarball = file;
  return file;
}
