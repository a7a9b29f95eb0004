import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  bufferReader,
  NotElfError,
  parseElfNotes,
  pvhEntry,
  readElfNotes,
  XEN_ELFNOTE_PHYS32_ENTRY,
} from "../../../../builder/src/kernel/elf-notes.js";

/** A minimal ELF64 LE file with one PT_NOTE segment holding `notes`. */
function elfWithNotes(notes: { name: string; type: number; desc: Buffer }[]): Buffer {
  const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
  const body = Buffer.concat(
    notes.map((n) => {
      const head = Buffer.alloc(12);
      const name = Buffer.from(`${n.name}\0`);
      head.writeUInt32LE(name.length, 0);
      head.writeUInt32LE(n.desc.length, 4);
      head.writeUInt32LE(n.type, 8);
      return Buffer.concat([head, pad(name), pad(n.desc)]);
    }),
  );
  const header = Buffer.alloc(64);
  header.writeUInt32BE(0x7f454c46, 0);
  header[4] = 2; // ELFCLASS64
  header[5] = 1; // little-endian
  header.writeBigUInt64LE(64n, 0x20); // e_phoff
  header.writeUInt16LE(56, 0x36); // e_phentsize
  header.writeUInt16LE(1, 0x38); // e_phnum
  const ph = Buffer.alloc(56);
  ph.writeUInt32LE(4, 0); // PT_NOTE
  ph.writeBigUInt64LE(BigInt(64 + 56), 8);
  ph.writeBigUInt64LE(BigInt(body.length), 32);
  return Buffer.concat([header, ph, body]);
}

describe("ELF notes", () => {
  it("finds the Xen PVH entry note among others", async () => {
    const entry = Buffer.alloc(8);
    entry.writeBigUInt64LE(0x1000a00n);
    const elf = elfWithNotes([
      { name: "GNU", type: 3, desc: Buffer.from("build-id!") },
      { name: "Xen", type: 6, desc: Buffer.from("linux\0") },
      { name: "Xen", type: XEN_ELFNOTE_PHYS32_ENTRY, desc: entry },
    ]);
    const notes = await parseElfNotes(bufferReader(elf));
    expect(notes.map((n) => `${n.name}/${n.type}`)).toEqual(["GNU/3", "Xen/6", "Xen/18"]);
    expect(pvhEntry(notes)).toBe("0x1000a00");
    expect(pvhEntry(notes.slice(0, 2))).toBeUndefined();
  });

  it("reads a real binary's notes from disk the way readelf does", async () => {
    const notes = await readElfNotes("/bin/busybox");
    const buildId = notes.find((n) => n.name === "GNU" && n.type === 3)!;
    const readelf = execFileSync("readelf", ["-n", "/bin/busybox"], { encoding: "utf8" });
    expect(readelf).toContain(`Build ID: ${buildId.desc.toString("hex")}`);
  });

  it("refuses files that are not ELF64 little-endian", async () => {
    await expect(parseElfNotes(bufferReader(Buffer.from("#!/bin/sh\n".padEnd(64))))).rejects.toThrow(
      NotElfError,
    );
  });
});
