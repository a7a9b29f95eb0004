// cryptsetup as the agent runs it for encryption_key=ephemeral, on a real file: what luksFormat
// writes (LUKS2, AES-XTS, 4 KiB sectors, PBKDF2), that the key given on stdin is the one that
// opens it and is found nowhere on disk. (Opening needs device-mapper, which this host lacks:
// test/integration/agent/storage/encrypted.test.ts sees cryptsetup open fail for real.)
import { randomBytes } from "node:crypto";
import { closeSync, openSync, readdirSync, readFileSync, statSync, truncateSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  luksFormat,
  luksFormatArgs,
  luksOpenArgs,
  luksTestKey,
} from "../../../../agent/src/tools/cryptsetup.js";
import { stdoutText } from "../../../../agent/src/tools/run.js";
import { runTool } from "../../../../agent/src/tools/tool.js";
import { leavingNoDeviceMapperNode } from "../../../helpers/storage.js";

function blankFile(name: string, mib: number): string {
  const file = path.join(process.env.TMPDIR ?? "/tmp", name);
  closeSync(openSync(file, "w"));
  truncateSync(file, mib * 1024 * 1024);
  return file;
}

/** Every file under `dir`, for looking for the key. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(path.join(dir, e.name)) : e.isFile() ? [path.join(dir, e.name)] : [],
  );
}

describe("cryptsetup", () => {
  it("formats LUKS2 with AES-XTS, 4 KiB sectors and PBKDF2, under the key from stdin only", async () => {
    const volume = blankFile("volume.img", 32);
    const key = randomBytes(64);
    const result = await leavingNoDeviceMapperNode(() => luksFormat(volume, key));
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);

    const dump = stdoutText(
      await leavingNoDeviceMapperNode(() => runTool("cryptsetup", ["luksDump", volume])),
    );
    expect(dump).toMatch(/^Version:\s+2$/m);
    expect(dump).toMatch(/cipher:\s+aes-xts-plain64/);
    expect(dump).toMatch(/sector:\s+4096 \[bytes\]/);
    expect(dump).toMatch(/PBKDF:\s+pbkdf2/);
    expect(dump).toMatch(/Key:\s+512 bits/);

    const testKey = (k: Uint8Array) => leavingNoDeviceMapperNode(() => luksTestKey(volume, k));
    expect((await testKey(key)).exitCode).toBe(0);
    expect((await testKey(randomBytes(64))).exitCode).not.toBe(0);
  });

  it("never puts the key in a command line or a file", async () => {
    const volume = blankFile("secret.img", 32);
    const key = randomBytes(64);
    await leavingNoDeviceMapperNode(() => luksFormat(volume, key));
    for (const args of [luksFormatArgs(volume), luksOpenArgs(volume, "name")]) {
      expect(args).toContain("-"); // --key-file - : stdin
      expect(args.join(" ")).not.toContain(key.toString("hex"));
    }
    const scratch = process.env.TMPDIR ?? "/tmp";
    for (const file of filesUnder(scratch)) {
      if (statSync(file).size > 64 * 1024 * 1024) continue;
      expect(readFileSync(file).indexOf(key), file).toBe(-1);
    }
  });
});
