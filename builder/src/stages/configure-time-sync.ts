// Stage: chrony set up as production Kata guests have it: the guest's clock follows the host's
// through the PTP KVM clock (/dev/ptp0, CONFIG_PTP_1588_CLOCK_KVM) instead of network servers,
// and steps at any time when it is off by more than a second (a guest resumed or migrated).
// Under systemd the chrony unit starts only where that clock exists and writes nothing on the
// read-only root. A root without chrony is left alone.
import { chmod, lstat, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { With } from "../context.js";
import { hostPath, resolveInRoot } from "../util/in-root.js";

/** Where distributions keep chrony's configuration (Debian, then Fedora-like: Azure Linux). */
const CONFIG_PATHS = ["/etc/chrony/chrony.conf", "/etc/chrony.conf"];
/** chrony's unit: Debian names it chrony.service, Azure Linux chronyd.service. */
const UNIT_NAMES = ["chrony.service", "chronyd.service"];

export const PTP_REFCLOCK = "refclock PHC /dev/ptp0 poll 3 dpoll -2 offset 0";
export const MAKESTEP = "makestep 1 -1";

/** Network sources and the distribution's own step rule are commented out; ours are appended. */
export function ptpChronyConf(text: string): string {
  const lines = text.split("\n").map((l) => (/^\s*(server|pool|peer|makestep)\s/.test(l) ? `#${l}` : l));
  while (lines.at(-1) === "") lines.pop();
  return `${lines.join("\n")}\n\n# kata-build: the host's clock through the PTP KVM device; step whenever off by > 1 s.\n${PTP_REFCLOCK}\n${MAKESTEP}\n`;
}

const UNIT_DROP_IN = `# kata-build: chrony in a Kata guest.
[Unit]
# Only where the host offers its clock to the guest.
ConditionPathExists=/dev/ptp0

[Service]
# The root is read-only: no state or log directory to create (the drift file is not kept).
StateDirectory=
LogsDirectory=
`;

const exists = (p: string) =>
  lstat(p).then(
    () => true,
    () => false,
  );

export async function configureTimeSync(ctx: With<"root" | "init">): Promise<void> {
  const { root } = ctx;
  let config: string | undefined;
  for (const p of CONFIG_PATHS) if (await exists(join(root, await resolveInRoot(root, p)))) config = p;
  if (!config) {
    ctx.manifest.timeSync = { chrony: false };
    return;
  }
  const file = await hostPath(root, config);
  await writeFile(file, ptpChronyConf(await readFile(file, "utf8")));
  let unit: string | undefined;
  if (ctx.init === "systemd") {
    for (const name of UNIT_NAMES) {
      for (const dir of ["/usr/lib/systemd/system", "/lib/systemd/system"]) {
        if (!unit && (await exists(join(root, await resolveInRoot(root, `${dir}/${name}`))))) unit = name;
      }
    }
    if (unit) {
      const dropIn = await hostPath(root, `/etc/systemd/system/${unit}.d/kata.conf`);
      await mkdir(join(dropIn, ".."), { recursive: true });
      await writeFile(dropIn, UNIT_DROP_IN);
      await chmod(dropIn, 0o644);
    }
  }
  ctx.manifest.timeSync = { chrony: true, config, refclock: PTP_REFCLOCK, ...(unit ? { unit } : {}) };
}
