import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { lspciName } from "./names.js";
import { PciIds } from "./pci-ids.js";

/** a small database in the file's own format */
const TEXT = [
  "#\tVersion: 2099.01.01",
  "8086  Intel Corporation",
  "\t9d10  Sunrise Point-LP PCI Express Root Port #1",
  "\t9d11  Sunrise Point-LP PCI Express Root Port #2",
  "\t10d3  82574L Gigabit Network Connection",
  "\t\t8086 a01f  Gigabit CT Desktop Adapter",
  "\t10f6  82574L Gigabit Network Connection",
  "\t1e10  7 Series/C216 Chipset Family PCI Express Root Port 1",
  "1b36  Red Hat, Inc.",
  "\t000c  QEMU PCIe Root port",
  "C 06  Bridge",
  "\t00  Host bridge",
  "\t04  PCI bridge",
  "\t\t00  Normal decode",
  "C 0c  Serial bus controller",
  "\t03  USB controller",
  "\t\t30  XHCI",
  "",
].join("\n");

describe("pci.ids", () => {
  const ids = PciIds.parse(TEXT);

  it("names, subsystems and classes as lspci prints them", () => {
    expect(ids.version).toBe("2099.01.01");
    expect(ids.vendorName(0x8086)).toBe("Intel Corporation");
    expect(ids.deviceName(0x1b36, 0x000c)).toBe("QEMU PCIe Root port");
    expect(ids.subsystemName(0x8086, 0x10d3, 0x8086, 0xa01f)).toBe("Gigabit CT Desktop Adapter");
    expect(ids.className(0x060400)).toBe("PCI bridge");
    expect(ids.className(0x068000)).toBe("Bridge"); // no subclass 80 here: the class name
    expect(ids.className(0x0c0330)).toBe("USB controller");
    expect(ids.progIfName(0x0c0330)).toBe("XHCI");
    expect(ids.className(0x990000)).toBeUndefined();
    expect(ids.classByName("PCI bridge")).toBe(0x0604);
    expect(ids.classByName("USB controller")).toBe(0x0c03);
    expect(ids.classByName("Serial bus controller")).toBe(0x0c00);
    expect(ids.classByName("Nothing")).toBeUndefined();
    expect(lspciName(ids, 0x8086, 0x9d10)).toBe("Intel Corporation Sunrise Point-LP PCI Express Root Port #1");
    expect(lspciName(ids, 0x8086, 0x1234)).toBe("Intel Corporation Device 1234");
    expect(lspciName(ids, 0xabcd, 0x1234)).toBe("Device abcd:1234");
  });

  it("names back to ids: unique, ambiguous, lspci's fallbacks, renamed, unknown", () => {
    expect(ids.lookupByName("Intel Corporation Sunrise Point-LP PCI Express Root Port #1")).toEqual({ kind: "unique", match: { vendor: 0x8086, device: 0x9d10 } });
    expect(ids.lookupByName("Intel Corporation 82574L Gigabit Network Connection")).toEqual({ kind: "ambiguous", matches: [{ vendor: 0x8086, device: 0x10d3 }, { vendor: 0x8086, device: 0x10f6 }] });
    expect(ids.lookupByName("Intel Corporation Device 9a49")).toEqual({ kind: "unique", match: { vendor: 0x8086, device: 0x9a49 } });
    expect(ids.lookupByName("Device 1d0f:8061")).toEqual({ kind: "unique", match: { vendor: 0x1d0f, device: 0x8061 } });
    expect(ids.lookupByName("Red Hat, Inc.", "QEMU PCIe Root port")).toEqual({ kind: "unique", match: { vendor: 0x1b36, device: 0x000c } });
    const renamed = ids.lookupByName("Intel Corporation 7 Series/C210 Series Chipset Family PCI Express Root Port 1");
    expect(renamed).toMatchObject({ kind: "approximate", matches: [{ vendor: 0x8086, device: 0x1e10 }] });
    expect(ids.lookupByName("Intel Corporation Something Else Entirely")).toEqual({ kind: "unknown" });
    expect(ids.lookupByName("Nobody Inc. Widget")).toEqual({ kind: "unknown" });
  });

  it("a lookup that searches the text answers as reading the whole file would", () => {
    const id = fc.constantFrom(0x10de, 0x8086, 0xabcd, 0x00ff).chain((n) => fc.constantFrom(n.toString(16).padStart(4, "0"), n.toString(16).padStart(4, "0").toUpperCase()));
    const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9 ]{0,12}$/);
    const block = fc.record({ vendor: id, name, devices: fc.array(fc.record({ id, name }), { maxLength: 5 }) });
    fc.assert(
      fc.property(fc.array(block, { maxLength: 6 }), fc.boolean(), (blocks, crlf) => {
        const lines = ["# pci.ids"];
        // the reference: a later vendor line replaces the vendor, a later device line its device
        const want = new Map<number, { name: string; devices: Map<number, string> }>();
        for (const b of blocks) {
          lines.push(`${b.vendor}  ${b.name}`);
          const devices = new Map<number, string>();
          want.set(parseInt(b.vendor, 16), { name: b.name.trim(), devices });
          for (const d of b.devices) {
            lines.push(`\t${d.id}  ${d.name}`);
            devices.set(parseInt(d.id, 16), d.name.trim());
          }
        }
        const text = lines.join(crlf ? "\r\n" : "\n") + "\n";
        for (const v of [0x10de, 0x8086, 0xabcd, 0x00ff]) {
          const ids = PciIds.parse(text);
          expect(ids.vendorName(v)).toBe(want.get(v)?.name);
          for (const d of [0x10de, 0x8086, 0xabcd, 0x00ff]) expect(PciIds.parse(text).deviceName(v, d)).toBe(want.get(v)?.devices.get(d));
        }
      }),
      { seed: 7, numRuns: 300 },
    );
  });
});

