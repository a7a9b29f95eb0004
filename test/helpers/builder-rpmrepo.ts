// A local Azure Linux stand-in repository, built for real: tiny noarch RPMs made with
// rpmbuild for each name on rootfs/azurelinux's package lists, signed with a throwaway GPG key
// (rpmsign), indexed with createrepo_c, and the repository metadata signed as well.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface RpmRepo {
  /** The createrepo_c directory (pass as --mirror). */
  repo: string;
  /** The armored public key (pass as --gpg-key). */
  key: string;
  fingerprint: string;
  gnupg: string;
}

const run = (cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  execFileSync(cmd, args, {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });

export function packageNames(data: string): string[] {
  const names = new Set<string>();
  for (const f of ["packages.txt", "packages-systemd.txt"]) {
    for (const line of readFileSync(join(data, "azurelinux", f), "utf8").split("\n")) {
      const name = line.replace(/#.*/, "").trim();
      if (name) names.add(name);
    }
  }
  return [...names];
}

/** Files each stand-in lays down: enough for the builder's checks, plus docs and locales. */
function specFor(name: string): string {
  const install: string[] = [];
  const files: string[] = [];
  const add = (path: string, content: string, mode = "0644") => {
    install.push(
      `mkdir -p "%{buildroot}$(dirname ${path})"`,
      `printf '%s\\n' '${content}' > "%{buildroot}${path}"`,
    );
    files.push(`%attr(${mode},root,root) ${path}`);
  };
  if (name === "filesystem") {
    install.push(
      "mkdir -p %{buildroot}/usr/bin %{buildroot}/usr/sbin %{buildroot}/usr/lib %{buildroot}/etc %{buildroot}/var/lib %{buildroot}/var/cache %{buildroot}/var/log %{buildroot}/tmp",
      "ln -s usr/bin %{buildroot}/bin",
      "ln -s usr/sbin %{buildroot}/sbin",
      "ln -s usr/lib %{buildroot}/lib",
    );
    files.push("%dir /usr", "%dir /usr/bin", "%dir /usr/sbin", "%dir /usr/lib", "%dir /etc", "%dir /var");
    files.push("%dir /var/lib", "%dir /var/cache", "%dir /var/log", "%dir /tmp", "/bin", "/sbin", "/lib");
  } else if (name === "systemd") {
    add("/usr/lib/systemd/systemd", "#!/bin/sh", "0755");
    add("/usr/lib/systemd/system/systemd-journald.service", "[Unit]");
    install.push("mkdir -p %{buildroot}/usr/sbin", "ln -s ../lib/systemd/systemd %{buildroot}/usr/sbin/init");
    files.push("/usr/sbin/init");
  } else if (name === "nodejs") {
    add("/usr/bin/node", "#!/bin/sh", "0755");
  } else {
    add(`/usr/bin/${name}-standin`, "#!/bin/sh", "0755");
  }
  install.push(
    `mkdir -p %{buildroot}/usr/share/locale/de/LC_MESSAGES %{buildroot}/usr/share/doc/${name}`,
    `echo x > %{buildroot}/usr/share/locale/de/LC_MESSAGES/${name}.mo`,
    `echo doc > %{buildroot}/usr/share/doc/${name}/README`,
  );
  files.push(`/usr/share/locale/de/LC_MESSAGES/${name}.mo`, `%doc /usr/share/doc/${name}/README`);
  return [
    `Name: ${name}`,
    "Version: 1.0",
    "Release: 1.azl3",
    `Summary: stand-in for ${name}`,
    "License: MIT",
    "Vendor: kata-build tests",
    "BuildArch: noarch",
    ...(name === "filesystem" ? [] : ["Requires: filesystem"]),
    "%description",
    `Stand-in for the Azure Linux ${name} package.`,
    "%install",
    ...install,
    "%files",
    ...files,
    "",
  ].join("\n");
}

export function buildRpm(work: string, name: string): string {
  const top = join(work, "rpmbuild");
  mkdirSync(join(top, "SPECS"), { recursive: true });
  const spec = join(top, "SPECS", `${name}.spec`);
  writeFileSync(spec, specFor(name));
  run("rpmbuild", ["-bb", "--quiet", "--define", `_topdir ${top}`, spec]);
  return join(top, "RPMS", "noarch", `${name}-1.0-1.azl3.noarch.rpm`);
}

function makeKey(work: string): { gnupg: string; key: string; fingerprint: string } {
  const gnupg = join(work, "gnupg");
  mkdirSync(gnupg, { recursive: true, mode: 0o700 });
  const g = (...args: string[]) => run("gpg", ["--batch", "--homedir", gnupg, ...args]);
  g(
    "--pinentry-mode",
    "loopback",
    "--passphrase",
    "",
    "--quick-gen-key",
    "kata-build test <test@kata.invalid>",
    "rsa2048",
    "sign",
    "never",
  );
  const colons = g("--with-colons", "--list-keys");
  const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(colons)![1]!;
  const key = join(work, "RPM-GPG-KEY-kata-test");
  writeFileSync(key, g("--armor", "--export", fingerprint));
  return { gnupg, key, fingerprint };
}

export function signRpms(gnupg: string, rpms: string[]): void {
  run("rpmsign", [
    "--define",
    "__gpg /usr/bin/gpg",
    "--define",
    `_gpg_path ${gnupg}`,
    "--define",
    "_gpg_name test@kata.invalid",
    "--addsign",
    ...rpms,
  ]);
}

/** (Re)indexes `repo` and signs its repomd.xml. */
export function indexRepo(gnupg: string, repo: string): void {
  run("createrepo_c", ["--quiet", "--update", repo]);
  run("gpg", [
    "--batch",
    "--homedir",
    gnupg,
    "--yes",
    "--detach-sign",
    "--armor",
    join(repo, "repodata", "repomd.xml"),
  ]);
}

export function buildRpmRepo(work: string, names: string[]): RpmRepo {
  const { gnupg, key, fingerprint } = makeKey(work);
  const repo = join(work, "repo");
  mkdirSync(repo, { recursive: true });
  const rpms = names.map((n) => buildRpm(work, n));
  signRpms(gnupg, rpms);
  for (const rpm of rpms) cpSync(rpm, join(repo, rpm.split("/").pop()!));
  indexRepo(gnupg, repo);
  if (!existsSync(join(repo, "repodata", "repomd.xml.asc")))
    throw new Error("repository metadata was not signed");
  return { repo, key, fingerprint, gnupg };
}
