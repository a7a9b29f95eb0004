// An SPDX 2.3 JSON document listing the packages installed in a root filesystem, and the
// agent with the npm packages bundled into it.
import { createHash } from "node:crypto";

export interface InstalledPackage {
  name: string;
  version: string;
  /** Machine architecture; "" for packages without one (npm). */
  arch: string;
  /** Package manager's licence field; used only if it reads as an SPDX expression. */
  license?: string;
  supplier?: string;
  /** purl type and namespace, e.g. "rpm" + "azurelinux", "deb" + "debian", "npm" + "@grpc" (a
   * scope; "" for an unscoped package). */
  purlType: "rpm" | "deb" | "npm" | "generic";
  purlNamespace: string;
  epoch?: string;
  /** Extra purl qualifiers such as distro=bookworm. */
  qualifiers?: Record<string, string>;
}

/** A program put into the root with the npm packages bundled into it (the agent). */
export interface BundledProgram {
  program: InstalledPackage;
  packages: InstalledPackage[];
}

export interface SpdxInput {
  name: string;
  packages: InstalledPackage[];
  bundled?: BundledProgram;
  /** Seconds since the epoch (SOURCE_DATE_EPOCH for reproducible documents). */
  created: number;
  tool: string;
}

const SPDX_ID = /[^A-Za-z0-9.-]/g;
const LICENSE_EXPR = /^[A-Za-z0-9.+-]+( +(AND|OR|WITH) +[A-Za-z0-9.+-]+)*$/;

/** The text as an SPDX licence expression (identifiers joined by AND/OR/WITH, in balanced
 * parentheses), or NOASSERTION when it is not one. */
export function spdxLicense(text: string | undefined): string {
  const t = text?.trim();
  if (!t) return "NOASSERTION";
  let depth = 0;
  for (const c of t) {
    depth += c === "(" ? 1 : c === ")" ? -1 : 0;
    if (depth < 0) return "NOASSERTION";
  }
  const flat = t.replace(/\(\s*/g, "").replace(/\s*\)/g, "");
  return depth === 0 && LICENSE_EXPR.test(flat) ? t : "NOASSERTION";
}

/** The name a package goes by: an npm scope is part of it. */
function fullName(p: InstalledPackage): string {
  return p.purlType === "npm" && p.purlNamespace ? `${p.purlNamespace}/${p.name}` : p.name;
}

export function purl(p: InstalledPackage): string {
  const q = new URLSearchParams();
  if (p.arch) q.set("arch", p.arch);
  if (p.epoch && p.epoch !== "0") q.set("epoch", p.epoch);
  for (const [k, v] of Object.entries(p.qualifiers ?? {}).sort()) q.set(k, v);
  const namespace = p.purlNamespace ? `${encodeURIComponent(p.purlNamespace)}/` : "";
  const qualifiers = q.toString();
  return `pkg:${p.purlType}/${namespace}${encodeURIComponent(p.name)}@${encodeURIComponent(p.version)}${qualifiers ? `?${qualifiers}` : ""}`;
}

/** An npm package ("@scope/name" or "name") as the SBOM lists it. */
export function npmPackage(name: string, version: string, license: string): InstalledPackage {
  const slash = name.startsWith("@") ? name.indexOf("/") : -1;
  return {
    name: slash > 0 ? name.slice(slash + 1) : name,
    version,
    arch: "",
    license,
    purlType: "npm",
    purlNamespace: slash > 0 ? name.slice(0, slash) : "",
  };
}

export function makeSpdx(input: SpdxInput): Record<string, unknown> {
  const sorted = (list: InstalledPackage[]) =>
    [...list].sort((a, b) =>
      a.name === b.name
        ? a.purlNamespace === b.purlNamespace
          ? a.arch < b.arch
            ? -1
            : 1
          : a.purlNamespace < b.purlNamespace
            ? -1
            : 1
        : a.name < b.name
          ? -1
          : 1,
    );
  const bundled = input.bundled ? sorted(input.bundled.packages) : [];
  const packages = [...sorted(input.packages), ...(input.bundled ? [input.bundled.program] : []), ...bundled];
  const used = new Set<string>();
  const ids = packages.map((p) => {
    const name = p.purlNamespace && p.purlType === "npm" ? `${p.purlNamespace}-${p.name}` : p.name;
    let id = `SPDXRef-Package-${p.purlType}-${name}${p.arch ? `-${p.arch}` : ""}`.replace(SPDX_ID, "-");
    while (used.has(id)) id += "-dup";
    used.add(id);
    return id;
  });
  const programId = input.bundled ? ids[input.packages.length] : undefined;
  const contained = new Set(ids.slice(input.packages.length + 1));
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
      name: fullName(p),
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
    relationships: ids.map((id) =>
      contained.has(id)
        ? { spdxElementId: programId, relationshipType: "CONTAINS", relatedSpdxElement: id }
        : { spdxElementId: "SPDXRef-DOCUMENT", relationshipType: "DESCRIBES", relatedSpdxElement: id },
    ),
  };
}
