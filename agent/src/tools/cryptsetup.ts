// cryptsetup: LUKS2 on a block device, for storage with encryption_key=ephemeral. The key always
// travels on stdin (--key-file -), so it never exists as a file or in a command line that
// /proc/<pid>/cmdline would show.
import type { RunResult } from "./run.js";
import { runTool, type ToolOptions } from "./tool.js";

/**
 * Cipher and sectors as a LUKS2 format picks by default (AES-XTS with a 512-bit key; 4 KiB
 * sectors, as the Kata ephemeral volumes upstream use). The passphrase is a random key used once,
 * so a costly key derivation would protect nothing: PBKDF2 at cryptsetup's minimum iterations
 * keeps argon2's memory (up to half the guest's RAM) and seconds of CPU out of the guest.
 */
export function luksFormatArgs(device: string): string[] {
  return [
    "luksFormat",
    "--batch-mode",
    "--type",
    "luks2",
    "--cipher",
    "aes-xts-plain64",
    "--key-size",
    "512",
    "--sector-size",
    "4096",
    "--pbkdf",
    "pbkdf2",
    "--pbkdf-force-iterations",
    "1000",
    "--key-file",
    "-",
    device,
  ];
}

export function luksOpenArgs(device: string, name: string): string[] {
  return ["open", "--type", "luks2", "--key-file", "-", device, name];
}

/** Writes a new LUKS2 header to `device`: whatever it held is unreadable from then on. */
export function luksFormat(device: string, key: Uint8Array, options: ToolOptions = {}): Promise<RunResult> {
  return runTool("cryptsetup", luksFormatArgs(device), { timeout: 120_000, ...options, input: key });
}

/** Maps the decrypted device at /dev/mapper/<name>. */
export function luksOpen(
  device: string,
  name: string,
  key: Uint8Array,
  options: ToolOptions = {},
): Promise<RunResult> {
  return runTool("cryptsetup", luksOpenArgs(device, name), { timeout: 60_000, ...options, input: key });
}

/** Checks that `key` opens `device`, without mapping it (no device-mapper needed). */
export function luksTestKey(device: string, key: Uint8Array, options: ToolOptions = {}): Promise<RunResult> {
  return runTool("cryptsetup", ["open", "--test-passphrase", "--key-file", "-", device], {
    timeout: 60_000,
    ...options,
    input: key,
  });
}

/** Removes the mapping (the key leaves the kernel with it). */
export function luksClose(name: string, options: ToolOptions = {}): Promise<RunResult> {
  return runTool("cryptsetup", ["close", name], { timeout: 60_000, ...options });
}
