import fc from "fast-check";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { encodeIort, setAcpiChecksum } from "./encode.js";
import { iortMapId, iortRootComplex, iortSmmus, parseIort } from "./iort.js";

/** the shape QEMU's virt machine writes with iommu=smmuv3: ITS group, SMMUv3 → ITS, root complex → SMMUv3 */
const qemuLike = () =>
  encodeIort([
    { type: "its", its: [0] },
    { type: "smmuv3", base: 0x9050000n, mappings: [{ inputBase: 0, count: 0x10000, outputBase: 0, to: 0 }] },
    { type: "root-complex", segment: 0, mappings: [{ inputBase: 0, count: 0x10000, outputBase: 0, to: 1 }] },
  ]);

describe("parseIort", () => {
  it("reads ITS group, SMMUv3 and root complex nodes with their ID mappings", () => {
    const t = parseIort(qemuLike());
    expect(t.issues).toEqual([]);
    expect(t.nodes.map((n) => n.kind)).toEqual(["its-group", "smmuv3", "root-complex"]);
    const [its, smmu, rc] = t.nodes;
    expect(its).toMatchObject({ offset: 48, itsIds: [0] });
    expect(smmu).toMatchObject({ kind: "smmuv3", base: 0x9050000n });
    expect(rc).toMatchObject({ kind: "root-complex", segment: 0 });
    expect(rc!.mappings).toEqual([{ offset: expect.any(Number), inputBase: 0, idCount: 0xffff, outputBase: 0, outputRef: smmu!.offset, single: false }]);
    expect(iortSmmus(t)).toEqual([smmu]);
    expect(iortRootComplex(t, 0)).toBe(rc);
    expect(iortRootComplex(t, 1)).toBeUndefined();
  });

  it("maps a requester ID through the root complex to the SMMU's StreamID, with offsets and ranges", () => {
    const t = parseIort(
      encodeIort([
        { type: "its", its: [0] },
        { type: "smmuv3", base: 0x1000n },
        { type: "smmuv3", base: 0x2000n },
        {
          type: "root-complex",
          segment: 3,
          mappings: [
            { inputBase: 0x0000, count: 0x100, outputBase: 0x8000, to: 1 },
            { inputBase: 0x0100, count: 0x100, outputBase: 0x0, to: 2 },
            { inputBase: 0x0200, count: 0x100, outputBase: 0x200, to: 0 },
          ],
        },
      ]),
    );
    const rc = iortRootComplex(t, 3)!;
    const a = iortMapId(t, rc, 0x0010);
    expect(a).toMatchObject({ kind: "smmu", streamId: 0x8010 });
    expect(a.kind === "smmu" && a.smmu.base).toBe(0x1000n);
    expect(iortMapId(t, rc, 0x01ff)).toMatchObject({ kind: "smmu", streamId: 0xff });
    expect(iortMapId(t, rc, 0x0205)).toMatchObject({ kind: "no-smmu", reached: { kind: "its-group" } });
    expect(iortMapId(t, rc, 0x0300)).toEqual({ kind: "unmapped" });
  });

  it("reads SMMUv1/v2, named components and RMR nodes with their memory ranges", () => {
    const t = parseIort(
      encodeIort([
        { type: "smmu", base: 0x2b400000n, span: 0x10000n },
        { type: "named-component", name: "\\_SB.ETH0", mappings: [{ inputBase: 0, count: 1, outputBase: 0x40, to: 0, single: true }] },
        { type: "rmr", flags: 1, ranges: [[0xe0000000n, 0x100000n]], mappings: [{ inputBase: 0x40, count: 1, outputBase: 0x40, to: 0 }] },
      ]),
    );
    expect(t.issues).toEqual([]);
    expect(t.nodes[0]).toMatchObject({ kind: "smmu", base: 0x2b400000n, span: 0x10000n });
    expect(t.nodes[1]).toMatchObject({ kind: "named-component", name: "\\_SB.ETH0" });
    expect(t.nodes[2]).toMatchObject({ kind: "rmr", flags: 1, ranges: [{ base: 0xe0000000n, length: 0x100000n }] });
    // a single mapping on a named component gives its output base whatever the input
    expect(iortMapId(t, t.nodes[1]!, 7)).toMatchObject({ kind: "smmu", streamId: 0x40 });
  });
});

describe("QEMU's IORT (virt, iommu=smmuv3, UEFI boot, read back from a Debian 6.1 arm64 guest)", () => {
  const bytes = new Uint8Array(readFileSync(new URL("./fixtures/qemu-virt-smmuv3.IORT", import.meta.url)));

  it("parses without issues: ITS group, SMMUv3 at 0x9050000, one root complex", () => {
    const t = parseIort(bytes);
    expect(t.issues).toEqual([]);
    expect(t.header).toMatchObject({ revision: 3, oemId: "BOCHS" });
    expect(t.nodes.map((n) => [n.offset, n.kind])).toEqual([
      [0x30, "its-group"],
      [0x48, "smmuv3"],
      [0xa0, "root-complex"],
    ]);
    expect(t.nodes[1]).toMatchObject({ base: 0x9050000n, deviceIdMappingIndex: 0 });
  });

  it("buses 00–04 reach the SMMU with StreamID = requester ID; from 05:00.0 on the IDs go straight to the ITS", () => {
    const t = parseIort(bytes);
    const rc = iortRootComplex(t, 0)!;
    expect(iortMapId(t, rc, 0x0100)).toMatchObject({ kind: "smmu", streamId: 0x100 });
    expect(iortMapId(t, rc, 0x04ff)).toMatchObject({ kind: "smmu", streamId: 0x4ff });
    // QEMU's first range ends on the ID the second starts with; Linux takes the second
    expect(iortMapId(t, rc, 0x0500)).toMatchObject({ kind: "no-smmu", reached: { kind: "its-group" } });
  });
});

describe("a real laptop's IORT (Acer Aspire 1, Snapdragon 7c; public disassembly with its raw bytes)", () => {
  const bytes = new Uint8Array(readFileSync(new URL("./fixtures/acer-aspire-1-sc7180.IORT", import.meta.url)));

  it("parses without issues: two SMMUv1/v2 nodes and 16 named components at unaligned offsets", () => {
    const t = parseIort(bytes);
    expect(t.issues).toEqual([]);
    expect(t.header?.checksumValid).toBe(true);
    expect(t.nodes).toHaveLength(18);
    expect(iortSmmus(t).map((n) => [n.kind, n.base, n.kind === "smmu" ? n.model : -1])).toEqual([
      ["smmu", 0x15000000n, 3],
      ["smmu", 0x5040000n, 1],
    ]);
    const named = t.nodes.filter((n) => n.kind === "named-component");
    expect(named).toHaveLength(16);
    expect(named.map((n) => (n.kind === "named-component" ? n.name : ""))).toContain("\\_SB.AMSS.QWLN");
    expect(t.nodes.map((n) => n.offset)).toContain(0x619);
  });

  it("maps the GPU's first ID to StreamID 2 of its own SMMU, and its display IDs to the MMU-500", () => {
    const t = parseIort(bytes);
    const gpu = t.nodes.find((n) => n.kind === "named-component" && n.name === "\\_SB.GPU0")!;
    const a = iortMapId(t, gpu, 0x030a0000);
    expect(a).toMatchObject({ kind: "smmu", streamId: 2 });
    expect(a.kind === "smmu" && a.smmu.base).toBe(0x5040000n);
    expect(iortMapId(t, gpu, 0x00030001)).toMatchObject({ kind: "smmu", streamId: 0x802 });
    expect(iortMapId(t, gpu, 0x7fffffff)).toEqual({ kind: "unmapped" });
  });
});

describe("hostile IORT bytes", () => {
  it("a node array offset inside the header or past the end is one error, no node", () => {
    const b = qemuLike();
    b[40] = 8;
    const t = parseIort(setAcpiChecksum(b));
    expect(t.nodes).toEqual([]);
    expect(t.issues).toEqual([{ code: "iort-node-offset-invalid", table: "IORT", offset: 40, nodeOffset: 8 }]);
  });

  it("a zero-length node stops the walk at its offset", () => {
    const b = qemuLike();
    const second = 48 + (b[49]! | (b[50]! << 8));
    b[second + 1] = 0;
    b[second + 2] = 0;
    const t = parseIort(setAcpiChecksum(b));
    expect(t.nodes).toHaveLength(1);
    expect(t.issues).toContainEqual({ code: "structure-zero-length", table: "IORT", offset: second, type: 4 });
  });

  it("an output reference to no node, a mapping array past the node, an unknown type and a short node are issues at their offsets", () => {
    const b = qemuLike();
    const t0 = parseIort(b);
    const rc = t0.nodes[2]!;
    const map = rc.mappings[0]!.offset;
    b[map + 12] = 0x99; // output reference
    const smmu = t0.nodes[1]!;
    b[smmu.offset + 8] = 200; // 200 mappings
    b[t0.nodes[0]!.offset] = 0x0f; // unknown type
    const t = parseIort(setAcpiChecksum(b));
    expect(t.issues).toContainEqual({ code: "iort-reference-invalid", table: "IORT", offset: map + 12, reference: 0x99 });
    expect(t.issues).toContainEqual({ code: "iort-array-past-end", table: "IORT", offset: smmu.offset + 12, what: "ID mappings", count: 200 });
    expect(t.issues).toContainEqual({ code: "iort-node-type-unknown", table: "IORT", offset: 48, nodeType: 0x0f });
    expect(iortMapId(t, t.nodes[2]!, 0x10)).toMatchObject({ kind: "no-smmu" });
  });

  it("more nodes declared than fit, and a truncated table", () => {
    const b = qemuLike();
    b[36] = 7;
    expect(parseIort(setAcpiChecksum(b)).issues).toContainEqual({ code: "iort-node-count", table: "IORT", offset: 36, declared: 7, found: 3 });
    const short = parseIort(b.subarray(0, 38));
    expect(short.nodes).toEqual([]);
    expect(short.issues.map((i) => i.code)).toContain("table-truncated");
  });

  it("never throws on random bytes, and every issue lies inside the table", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 400 }), fc.nat(), (noise, seed) => {
        const base = qemuLike();
        const b = new Uint8Array(Math.max(base.length, noise.length));
        b.set(base);
        for (let i = 0; i < noise.length; i++) if ((seed + i) % 3 === 0) b[i] = noise[i]!;
        const t = parseIort(b);
        for (const i of t.issues) expect(i.offset).toBeLessThanOrEqual(b.length);
        for (const n of t.nodes) for (let id = 0; id < 4; id++) iortMapId(t, n, id * 0x55);
      }),
      { numRuns: 300 },
    );
  });
});
