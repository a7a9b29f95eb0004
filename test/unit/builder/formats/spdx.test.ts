import { describe, expect, it } from "vitest";
import {
  type InstalledPackage,
  makeSpdx,
  npmPackage,
  purl,
  spdxLicense,
} from "../../../../builder/src/formats/spdx.js";

const deb: InstalledPackage = {
  name: "busybox",
  version: "1:1.35.0-4",
  arch: "amd64",
  license: "GPL-2.0-only",
  purlType: "deb",
  purlNamespace: "debian",
};

describe("SPDX documents", () => {
  it("read licence expressions, parentheses included", () => {
    expect(spdxLicense("MIT")).toBe("MIT");
    expect(spdxLicense("(Apache-2.0 AND BSD-3-Clause)")).toBe("(Apache-2.0 AND BSD-3-Clause)");
    expect(spdxLicense("(MIT OR (Apache-2.0 WITH LLVM-exception))")).toBe(
      "(MIT OR (Apache-2.0 WITH LLVM-exception))",
    );
    expect(spdxLicense("GPL v2")).toBe("NOASSERTION");
    expect(spdxLicense("(MIT")).toBe("NOASSERTION");
    expect(spdxLicense(undefined)).toBe("NOASSERTION");
  });

  it("name npm packages by purl, scope as namespace", () => {
    expect(purl(npmPackage("@grpc/grpc-js", "1.14.7", "Apache-2.0"))).toBe("pkg:npm/%40grpc/grpc-js@1.14.7");
    expect(purl(npmPackage("smol-toml", "1.3.4", "BSD-3-Clause"))).toBe("pkg:npm/smol-toml@1.3.4");
    expect(purl(deb)).toBe("pkg:deb/debian/busybox@1%3A1.35.0-4?arch=amd64");
  });

  it("list the agent and the npm packages it contains", () => {
    const agent: InstalledPackage = {
      name: "kata-agent",
      version: "0.1.0",
      arch: "",
      license: "Apache-2.0",
      purlType: "generic",
      purlNamespace: "",
    };
    const doc = makeSpdx({
      name: "rootfs",
      packages: [deb],
      bundled: {
        program: agent,
        packages: [
          npmPackage("smol-toml", "1.3.4", "BSD-3-Clause"),
          npmPackage("@grpc/grpc-js", "1.14.7", "Apache-2.0"),
        ],
      },
      created: 0,
      tool: "kata-build-test",
    }) as {
      packages: { name: string; SPDXID: string; licenseDeclared: string }[];
      relationships: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[];
    };
    expect(doc.packages.map((p) => p.name)).toEqual(["busybox", "kata-agent", "@grpc/grpc-js", "smol-toml"]);
    const id = (name: string) => doc.packages.find((p) => p.name === name)!.SPDXID;
    expect(doc.relationships).toContainEqual({
      spdxElementId: "SPDXRef-DOCUMENT",
      relationshipType: "DESCRIBES",
      relatedSpdxElement: id("busybox"),
    });
    expect(doc.relationships).toContainEqual({
      spdxElementId: "SPDXRef-DOCUMENT",
      relationshipType: "DESCRIBES",
      relatedSpdxElement: id("kata-agent"),
    });
    expect(doc.relationships).toContainEqual({
      spdxElementId: id("kata-agent"),
      relationshipType: "CONTAINS",
      relatedSpdxElement: id("@grpc/grpc-js"),
    });
    expect(new Set(doc.packages.map((p) => p.SPDXID)).size).toBe(4);
    expect(doc.packages.find((p) => p.name === "smol-toml")!.licenseDeclared).toBe("BSD-3-Clause");
  });
});
