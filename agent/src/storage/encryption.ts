// Block storage with driver option encryption_key=ephemeral (the runtime's block-encrypted
// emptyDir): the volume is LUKS2 under a key the guest makes up and never writes anywhere. It is
// random, held in memory only from luksFormat to open (passed to cryptsetup on stdin), then
// zeroed; the kernel keeps the volume key while the mapping exists, and closing the mapping on
// release makes the data unreadable for good. When the guest cannot encrypt (no cryptsetup, no
// device-mapper, no dm-crypt) the storage is refused: it is never mounted in plaintext instead.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { InvalidInputError, PreconditionError, UnsupportedError, withContext } from "../core/domain-error.js";
import { luksClose, luksFormat, luksOpen } from "../tools/cryptsetup.js";
import { ensureOk } from "../tools/tool.js";
import { sha256Hex } from "../util/hash.js";
import type { StorageContext, StorageSpec } from "./handler.js";

export const EPHEMERAL_KEY_OPTION = "encryption_key=ephemeral";
/** Bytes of the random passphrase (the LUKS volume key itself is made by cryptsetup). */
const KEY_BYTES = 64;
// node:crypto on first use: loading OpenSSL is a measurable part of the agent's start-up.
const load = createRequire(import.meta.url);

/**
 * Whether `storage` asks to be encrypted. Only an ephemeral key exists in this protocol; it needs
 * create_filesystem, as upstream requires: nothing readable can be on a volume whose key was
 * just made up.
 */
export function wantsEphemeralEncryption(storage: StorageSpec, createsFilesystem: boolean): boolean {
  const keys = storage.driverOptions.filter((o) => o.startsWith("encryption_key="));
  if (!keys.length) return false;
  const other = keys.find((k) => k !== EPHEMERAL_KEY_OPTION);
  if (other !== undefined) {
    throw new UnsupportedError(
      `storage driver "${storage.driver}": ${JSON.stringify(other)} is not supported; the only key is ${EPHEMERAL_KEY_OPTION}`,
    );
  }
  if (!createsFilesystem) {
    throw new InvalidInputError(
      `storage driver "${storage.driver}": ${EPHEMERAL_KEY_OPTION} needs create_filesystem too (a volume under a new key holds no filesystem yet)`,
    );
  }
  return true;
}

export interface EncryptedDevice {
  /** The decrypted view, /dev/mapper/<name>, to format and mount. */
  path: string;
  name: string;
  /** Removes the mapping. */
  close(): Promise<void>;
}

/** The mapping's name: one per mount point (device names can repeat across hot-plugs). */
export function mappingName(storage: StorageSpec): string {
  return `kata-ephemeral-${sha256Hex(storage.mountPoint).slice(0, 16)}`;
}

/** Formats `device` as LUKS2 under a new random key and opens it. */
export async function openEphemeralEncryption(
  storage: StorageSpec,
  device: string,
  ctx: StorageContext,
): Promise<EncryptedDevice> {
  const explain = (why: string) =>
    `storage driver "${storage.driver}": ${EPHEMERAL_KEY_OPTION} on ${device}: ${why}; refusing the volume rather than storing it in plaintext`;
  const refuse = (why: string) => new PreconditionError(explain(why));
  // The kernel's own word (a /dev/mapper/control node can be left by a failed attempt).
  const deviceMapper = join(ctx.sysfsRoot, "class", "misc", "device-mapper");
  if (!existsSync(deviceMapper)) {
    throw refuse(`the guest kernel has no device-mapper (no ${deviceMapper}): build it with DM_CRYPT`);
  }
  const devRoot = ctx.devices.roots.dev;
  const name = mappingName(storage);
  const { randomBytes } = load("node:crypto") as typeof import("node:crypto");
  const key = randomBytes(KEY_BYTES);
  const options = { signal: ctx.signal };
  try {
    const formatted = await luksFormat(device, key, options);
    if (formatted.spawnError !== undefined) {
      throw refuse(`cannot run cryptsetup (${formatted.spawnError}): install cryptsetup in the guest image`);
    }
    ensureOk(formatted, "luksFormat");
    ensureOk(
      await luksOpen(device, name, key, options),
      "cryptsetup open (is dm-crypt in the guest kernel?)",
    );
  } catch (err) {
    throw err instanceof PreconditionError ? err : withContext(err, explain);
  } finally {
    key.fill(0);
  }
  ctx.log.info("encrypted ephemeral volume opened", { device, mapping: name });
  return {
    path: join(devRoot, "mapper", name),
    name,
    close: async () => {
      ensureOk(await luksClose(name), `closing the encrypted volume ${name}`);
    },
  };
}
