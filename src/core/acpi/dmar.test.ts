import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { parseDmar } from "./dmar.js";
import type { DmarDrhd, DmarStructure } from "./dmar.js";
import { encodeDmar, encodeDmarScope, encodeDrhd, encodeRmrr, setAcpiChecksum, u16le, u32le, u64le } from "./encode.js";
import { formatAcpiIssue } from "./issues.js";

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));
const drhds = (structures: readonly DmarStructure[]): DmarDrhd[] => structures.filter((s): s is DmarDrhd => s.kind === "drhd");
const bdfs = (d: DmarDrhd): string[] =>
  d.scopes.map((s) => `${s.type}@${s.startBus.toString(16)}:${s.path.map((p) => `${p.device.toString(16)}.${p.function}`).join("/")}`);
const codes = (t: { issues: readonly { code: string }[] }): string[] => t.issues.map((i) => i.code);

describe("real DMAR tables (QEMU 7.2 q35, intel-iommu)", () => {
  test("qemu-q35-intel-pxb: one DRHD listing bus 0 and the pxb-pcie root bus 0x40", () => {
    const t = parseDmar(fixture("qemu-q35-intel-pxb.DMAR"));
    expect(t.issues).toEqual([]);
    expect(t.header).toMatchObject({ signature: "DMAR", length: 136, revision: 1, checksumValid: true, oemId: "BOCHS", oemTableId: "BXPC" });
    expect(t.hostAddressWidth).toBe(39);
    expect(t.flags).toBe(0); // intremap=off
    expect(t.structures).toHaveLength(1);
    const [d] = drhds(t.structures);
    expect(d).toMatchObject({ offset: 0x30, length: 88, flags: 0, includeAll: false, segment: 0, registerBase: 0xfed90000n });
    expect(bdfs(d!)).toEqual(["3@ff:0.0", "1@0:0.0", "2@0:2.0", "1@0:9.0", "1@0:1f.0", "1@0:1f.2", "1@0:1f.3", "2@40:0.0", "2@40:0.1"]);
    expect(d!.scopes[0]).toEqual({ type: 3, length: 8, flags: 0, enumerationId: 0, startBus: 0xff, path: [{ device: 0, function: 0 }], offset: 0x40 });
    expect(d!.scopes.map((s) => s.offset)).toEqual([0x40, 0x48, 0x50, 0x58, 0x60, 0x68, 0x70, 0x78, 0x80]);
  });

  test("qemu-q35-intel-bus0-endpoints: an IOAPIC scope and 15 bus-0 endpoints", () => {
    const t = parseDmar(fixture("qemu-q35-intel-bus0-endpoints.DMAR"));
    expect(t.issues).toEqual([]);
    const [d] = drhds(t.structures);
    expect(d!.length).toBe(144);
    expect(d!.scopes).toHaveLength(16);
    expect(bdfs(d!).slice(1)).toEqual(
      ["0.0", "3.0", "4.0", "5.0", "5.1", "5.2", "6.0", "1b.0", "1d.0", "1d.1", "1d.2", "1d.7", "1f.0", "1f.2", "1f.3"].map((x) => `1@0:${x}`),
    );
  });
});

describe("other structure types", () => {
  test("RMRR, ATSR, RHSA, ANDD, SATC and an unknown type are kept in table order", () => {
    const scope = encodeDmarScope({ type: 1, startBus: 0, path: [[0x14, 0]] });
    const atsr = [...u16le(2), ...u16le(8 + 8), 1, 0, ...u16le(0), ...encodeDmarScope({ type: 2, startBus: 0, path: [[0x1c, 0]] })];
    const rhsa = [...u16le(3), ...u16le(20), ...u32le(0), ...u64le(0xfed90000n), ...u32le(7)];
    const andd = [...u16le(4), ...u16le(8 + 9), 0, 0, 0, 0x2a, ..."\\_SB.UAR1".slice(0, 8).split("").map((c) => c.charCodeAt(0)), 0];
    const satc = [...u16le(5), ...u16le(8), 1, 0, ...u16le(0)];
    const unknown = [...u16le(9), ...u16le(6), 0xaa, 0xbb];
    const t = parseDmar(
      encodeDmar([
        encodeDrhd({ includeAll: true, registerBase: 0xfed91000n }),
        encodeRmrr({ base: 0x7c000000n, limit: 0x7c7fffffn, scopes: [{ type: 1, startBus: 0, path: [[0x14, 0]] }] }),
        atsr,
        rhsa,
        andd,
        satc,
        unknown,
      ], 46, 0x05),
    );
    expect(t.issues).toEqual([]);
    expect(t.hostAddressWidth).toBe(46);
    expect(t.flags).toBe(0x05);
    expect(t.structures.map((s) => s.kind)).toEqual(["drhd", "rmrr", "atsr", "rhsa", "andd", "satc", "unknown"]);
    const [drhd, rmrr, at, rh, an, sa, un] = t.structures;
    expect(drhd).toMatchObject({ includeAll: true, scopes: [] });
    expect(rmrr).toMatchObject({ kind: "rmrr", segment: 0, base: 0x7c000000n, limit: 0x7c7fffffn, scopes: [{ type: 1, startBus: 0, path: [{ device: 0x14, function: 0 }] }] });
    expect(rmrr!.length).toBe(24 + scope.length);
    expect(at).toMatchObject({ kind: "atsr", flags: 1, allPorts: true, segment: 0, scopes: [{ type: 2 }] });
    expect(rh).toMatchObject({ kind: "rhsa", registerBase: 0xfed90000n, proximityDomain: 7 });
    expect(an).toMatchObject({ kind: "andd", deviceNumber: 0x2a, objectName: "\\_SB.UAR" });
    expect(sa).toMatchObject({ kind: "satc", type: 5, length: 8 });
    expect(un).toEqual({ kind: "unknown", type: 9, offset: un!.offset, length: 6 });
  });

  test("a multi-step path is read in order", () => {
    const t = parseDmar(encodeDmar([encodeDrhd({ registerBase: 0xfed90000n, scopes: [{ type: 1, startBus: 0, path: [[0x1c, 0], [0, 0], [3, 1]] }] })]));
    expect(t.issues).toEqual([]);
    expect(drhds(t.structures)[0]!.scopes[0]!.path).toEqual([
      { device: 0x1c, function: 0 },
      { device: 0, function: 0 },
      { device: 3, function: 1 },
    ]);
  });
});

describe("malformed tables become issues, never exceptions", () => {
  const good = (): Uint8Array =>
    encodeDmar([
      encodeDrhd({ registerBase: 0xfed90000n, scopes: [{ type: 1, startBus: 0, path: [[2, 0]] }, { type: 2, startBus: 0, path: [[0x1c, 0]] }] }),
      encodeDrhd({ includeAll: true, registerBase: 0xfed91000n }),
    ]);
  /** patch bytes, keep the checksum valid so only the intended issue shows */
  const patched = (edit: (b: Uint8Array) => void): Uint8Array => {
    const b = good();
    edit(b);
    return setAcpiChecksum(b);
  };

  test("the unpatched table is clean", () => {
    expect(parseDmar(good()).issues).toEqual([]);
  });

  test("fewer than 36 bytes", () => {
    const t = parseDmar(good().subarray(0, 20));
    expect(t.issues).toEqual([{ code: "table-truncated", table: "DMAR", offset: 0, needed: 36, available: 20 }]);
    expect(t.header).toBeUndefined();
    expect(t.structures).toEqual([]);
  });

  test("header present but the table stops before offset 48", () => {
    const b = setAcpiChecksum(good().slice(0, 40));
    b.set(u32le(40), 4);
    const t = parseDmar(setAcpiChecksum(b));
    expect(codes(t)).toEqual(["table-truncated"]);
    expect(t.hostAddressWidth).toBe(39);
    expect(t.structures).toEqual([]);
  });

  test("bad signature is reported and parsing goes on", () => {
    const t = parseDmar(patched((b) => b.set([0x49, 0x56, 0x52, 0x53], 0)));
    expect(t.issues).toEqual([{ code: "bad-signature", table: "DMAR", offset: 0, expected: "DMAR", found: "IVRS" }]);
    expect(drhds(t.structures)).toHaveLength(2);
  });

  test("bad checksum is a warning only", () => {
    const b = good();
    b[9] = (b[9]! + 1) & 0xff;
    const t = parseDmar(b);
    expect(t.issues).toEqual([{ code: "bad-checksum", table: "DMAR", offset: 9, checksum: b[9], sum: 1 }]);
    expect(t.header!.checksumValid).toBe(false);
    expect(drhds(t.structures)).toHaveLength(2);
  });

  test("length field larger than the bytes: parse what is there", () => {
    const b = good();
    const t = parseDmar(b.subarray(0, b.length - 16)); // drop the INCLUDE_ALL DRHD
    expect(codes(t)).toEqual(["length-mismatch", "bad-checksum"]);
    expect(t.issues[0]).toMatchObject({ declared: b.length, actual: b.length - 16 });
    expect(drhds(t.structures)).toHaveLength(1);
  });

  test("length field smaller than the bytes: trailing bytes are not read", () => {
    const b = new Uint8Array([...good(), 0xde, 0xad, 0xbe, 0xef]);
    const t = parseDmar(b);
    expect(t.issues).toEqual([{ code: "length-mismatch", table: "DMAR", offset: 4, declared: b.length - 4, actual: b.length }]);
    expect(drhds(t.structures)).toHaveLength(2);
  });

  test("structure of length 0 stops the walk", () => {
    const t = parseDmar(patched((b) => b.set(u16le(0), 0x30 + 2)));
    expect(t.issues).toEqual([{ code: "structure-zero-length", table: "DMAR", offset: 0x30, type: 0 }]);
    expect(t.structures).toEqual([]);
  });

  test("structure running past the end stops the walk", () => {
    const t = parseDmar(patched((b) => b.set(u16le(0x200), 0x30 + 2)));
    expect(t.issues).toEqual([{ code: "structure-past-end", table: "DMAR", offset: 0x30, type: 0, length: 0x200, available: 48 }]);
  });

  test("structure shorter than its fixed part", () => {
    const t = parseDmar(encodeDmar([[...u16le(0), ...u16le(8), 0, 0, 0, 0]]));
    expect(t.issues).toEqual([{ code: "structure-too-short", table: "DMAR", offset: 0x30, type: 0, length: 8, minimum: 16 }]);
    expect(t.structures).toEqual([{ kind: "invalid", type: 0, offset: 0x30, length: 8 }]);
  });

  test("trailing bytes too few for a structure header", () => {
    const t = parseDmar(encodeDmar([encodeDrhd({ includeAll: true, registerBase: 0xfed90000n }), [0, 0]]));
    expect(t.issues).toEqual([{ code: "structure-header-truncated", table: "DMAR", offset: 0x40, available: 2 }]);
    expect(t.structures).toHaveLength(1);
  });

  test("device scope length < 6", () => {
    const t = parseDmar(patched((b) => (b[0x41] = 4)));
    expect(t.issues).toEqual([{ code: "scope-too-short", table: "DMAR", offset: 0x40, length: 4 }]);
    expect(formatAcpiIssue(t.issues[0]!)).toBe("DMAR offset 0x40: device scope length 4 is shorter than 6");
    // the structure walk continues with the next DRHD
    expect(drhds(t.structures).map((d) => d.scopes.length)).toEqual([0, 0]);
  });

  test("device scope of length 0 does not loop", () => {
    const t = parseDmar(patched((b) => (b[0x41] = 0)));
    expect(codes(t)).toEqual(["scope-too-short"]);
  });

  test("odd device scope length", () => {
    const b = encodeDmar([encodeDrhd({ registerBase: 0xfed90000n, scopes: [{ type: 1, startBus: 0, path: [[2, 0]] }] })]);
    // grow the scope to 9 bytes: one stray byte after the path
    const grown = [...b.subarray(48), 0x77];
    grown[2] = 16 + 9;
    grown[16 + 1] = 9;
    const t = parseDmar(encodeDmar([grown]));
    expect(t.issues).toEqual([{ code: "scope-odd-length", table: "DMAR", offset: 0x40, length: 9 }]);
    expect(drhds(t.structures)[0]!.scopes[0]!.path).toEqual([{ device: 2, function: 0 }]);
  });

  test("device scope running past its structure", () => {
    const t = parseDmar(patched((b) => (b[0x49] = 10)));
    expect(t.issues).toEqual([{ code: "scope-past-end", table: "DMAR", offset: 0x48, length: 10, available: 8 }]);
    expect(drhds(t.structures)[0]!.scopes).toHaveLength(1);
  });

  test("one stray byte after the scopes", () => {
    const b = encodeDmar([encodeDrhd({ registerBase: 0xfed90000n }).concat([1])]);
    b[0x32] = 17;
    const t = parseDmar(setAcpiChecksum(b));
    expect(t.issues).toEqual([{ code: "scope-truncated", table: "DMAR", offset: 0x40, available: 1 }]);
  });

  test("unknown device scope type is kept and reported", () => {
    const t = parseDmar(patched((b) => (b[0x40] = 9)));
    expect(t.issues).toEqual([{ code: "scope-type-unknown", table: "DMAR", offset: 0x40, scopeType: 9 }]);
    expect(drhds(t.structures)[0]!.scopes[0]!.type).toBe(9);
  });

  test("host address width below 12 bits", () => {
    const t = parseDmar(patched((b) => (b[36] = 5)));
    expect(t.issues).toEqual([{ code: "dmar-width-invalid", table: "DMAR", offset: 36, width: 6 }]);
  });

  test("DRHD register base 0 and a repeated DRHD", () => {
    const t = parseDmar(
      encodeDmar([
        encodeDrhd({ registerBase: 0n, includeAll: true }),
        encodeDrhd({ registerBase: 0xfed90000n }),
        encodeDrhd({ registerBase: 0xfed90000n, scopes: [{ type: 1, startBus: 0, path: [[2, 0]] }] }),
      ]),
    );
    expect(t.issues).toEqual([
      { code: "drhd-register-base-zero", table: "DMAR", offset: 0x30 },
      { code: "drhd-duplicate", table: "DMAR", offset: 0x50, firstOffset: 0x40, segment: 0 },
    ]);
  });

  test("random bytes never throw", () => {
    let seed = 12345;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    for (let n = 0; n < 300; n++) {
      const b = good();
      for (let k = 0; k < 6; k++) b[36 + (rnd() % (b.length - 36))] = rnd();
      const cut = b.subarray(0, 36 + (rnd() % (b.length - 35)));
      expect(() => parseDmar(cut)).not.toThrow();
      for (const issue of parseDmar(cut).issues) expect(formatAcpiIssue(issue)).not.toMatch(/undefined|NaN/);
    }
  });
});
