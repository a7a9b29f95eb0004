// An SPDX 2.3 JSON document listing the packages installed in a root filesystem.
import { createHash } from "node:crypto";

export interface InstalledPackage {
  name: string;
  version: string;
  arch: string;
  /** Package manager's licence field; used only if it reads as an SPDX expression. */
  license?: string;
  supplier?: string;
  /** purl type and namespace, e.g. "rpm" + "azurelinux" or "deb" + "debian". */
  purlType: "rpm" | "deb";
  purlNamespace: string;
  epoch?: string;
  /** Extra purl qualifiers such as distro=bookworm. */
  qualifiers?: Record<string, string>;
}

export interface SpdxInput {
  name: string;
  packages: InstalledPackage[];
  /** Seconds since the epoch (SOURCE_DATE_EPOCH for reproducible documents). */
  created: number;
  tool: string;
}

const SPDX_ID = /[^A-Za-z0-9.-]/g;
const LICENSE_EXPR = /^[A-Za-z0-9.+-]+( +(AND|OR|WITH) +[A-Za-z0-9.+-]+)*$/;

export function spdxLicense(text: string | undefined): string {
  const t = text?.trim();
  if (!t || !LICENSE_EXPR.test(t)) return "NOASSERTION";
  return t;
}

export function purl(p: InstalledPackage): string {
  const q = new URLSearchParams();
  q.set("arch", p.arch);
  if (p.epoch && p.epoch !== "0") q.set("epoch", p.epoch);
  for (const [k, v] of Object.entries(p.qualifiers ?? {}).sort()) q.set(k, v);
  return `pkg:${p.purlType}/${encodeURIComponent(p.purlNamespace)}/${encodeURIComponent(p.name)}@${encodeURIComponent(p.version)}?${q.toString()}`;
}

export function makeSpdx(input: SpdxInput): Record<string, unknown> {
  const packages = [...input.packages].sort((a, b) =>
    a.name === b.name ? (a.arch < b.arch ? -1 : 1) : a.name < b.name ? -1 : 1,
  );
  const used = new Set<string>();
  const ids = packages.map((p) => {
    let id = `SPDXRef-Package-${p.purlType}-${p.name}-${p.arch}`.replace(SPDX_ID, "-");
    while (used.has(id)) id += "-dup";
    used.add(id);
    return id;
  });
  // The namespace is derived from the content, so the same package set gives the same document.
  const digest = createHash("sha256")
    .update(JSON.stringify(packages.map(purl)))
    .digest("hex")
    .slice(0, 32);
  return {
    spdxVersion: "SPDX-2.3",
    dataLicense: "CC0-1.0",
    SPDXID: "SPDXRef-DOCUMENT",
    name: input.name,
    documentNamespace: `https://spdx.org/spdxdocs/kata-build/${encodeURIComponent(input.name)}-${digest}`,
    creationInfo: {
      created: new Date(input.created * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"),
      creators: [`Tool: ${input.tool}`],
    },
    packages: packages.map((p, i) => ({
      name: p.name,
      SPDXID: ids[i],
      versionInfo: p.version,
      supplier: p.supplier ? `Organization: ${p.supplier}` : "NOASSERTION",
      downloadLocation: "NOASSERTION",
      filesAnalyzed: false,
      licenseConcluded: "NOASSERTION",
      licenseDeclared: spdxLicense(p.license),
      copyrightText: "NOASSERTION",
      externalRefs: [
        { referenceCategory: "PACKAGE-MANAGER", referenceType: "purl", referenceLocator: purl(p) },
      ],
    })),
    relationships: ids.map((id) => ({
      spdxElementId: "SPDXRef-DOCUMENT",
      relationshipType: "DESCRIBES",
      relatedSpdxElement: id,
    })),
  };
}
