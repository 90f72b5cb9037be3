import { describe, expect, it } from "vitest";
import { PCI_ACS_CR, PCI_ACS_EC, PCI_ACS_RR, PCI_ACS_SV, PCI_ACS_TB, PCI_ACS_UF, REQ_ACS_FLAGS } from "../regs/acs.js";
import type { PciFunction } from "../topology/model.js";
import { acsEnableHook, acsQuirkAnswer, parseAcsOverride } from "./acs-quirks.js";
import type { AcsQuirkContext } from "./acs-quirks.js";
import { ACS_QUIRK_ROWS } from "./acs-table.js";
import { makeFn, makeTopology } from "./test-fixtures.js";
import type { FnPartial } from "./test-fixtures.js";

const RP = { isPcie: true, pcieType: 0x4, headerType: 1 } as const;
const DSP = { isPcie: true, pcieType: 0x6, headerType: 1 } as const;
const EP = { isPcie: true, pcieType: 0x0 } as const;

const ctxFor = (fns: PciFunction[], extra: Partial<AcsQuirkContext> = {}): AcsQuirkContext => ({
  topology: makeTopology(fns),
  ivrsPresent: false,
  pchQuirkEnabled: () => false,
  ...extra,
});
const ask = (p: FnPartial, extra: Partial<AcsQuirkContext> = {}, req = REQ_ACS_FLAGS) => {
  const fn = makeFn(p);
  return acsQuirkAnswer(fn, req, ctxFor([fn], extra));
};

describe("table order", () => {
  const index = (id: string): number => ACS_QUIRK_ROWS.findIndex((r) => r.id === id);

  it("Intel: mf_endpoint rows, then rciep, then intel_pch, then intel_spt_pch", () => {
    const mf = ACS_QUIRK_ROWS.map((r, i) => [r, i] as const).filter(([r]) => r.match.vendor === 0x8086 && r.effect.fn === "mf_endpoint");
    expect(mf).toHaveLength(7);
    const lastMf = Math.max(...mf.map(([, i]) => i));
    expect(lastMf).toBeLessThan(index("acs-rciep/intel"));
    expect(index("acs-rciep/intel")).toBeLessThan(index("acs-intel-pch/intel"));
    expect(index("acs-intel-pch/intel")).toBeLessThan(index("acs-intel-spt-pch/intel"));
  });

  it("an Intel multifunction NIC id answers through mf_endpoint even as an RCiEP", () => {
    // mf_endpoint allows TB, rciep would not
    const req = REQ_ACS_FLAGS | PCI_ACS_TB;
    expect(ask({ vendor: 0x8086, device: 0x1521, isPcie: true, pcieType: 0x9 }, {}, req)).toEqual({
      enabled: true,
      rowId: "acs-mf-endpoint/intel-i350",
    });
    expect(ask({ vendor: 0x8086, device: 0x3456, isPcie: true, pcieType: 0x9 }, {}, req)).toEqual({
      enabled: false,
      rowId: "acs-rciep/intel",
    });
  });

  it("rciep has no opinion on a PCH root port, so intel_pch answers", () => {
    expect(ask({ ...RP, vendor: 0x8086, device: 0x8c10 }, { pchQuirkEnabled: () => true })?.rowId).toBe("acs-intel-pch/intel");
  });

  it("Zhaoxin: a definite no beats the override", () => {
    const override = parseAcsOverride("downstream,multifunction,id:1d17:0800");
    expect(ask({ ...DSP, vendor: 0x1d17, device: 0x0800 }, { override })).toEqual({
      enabled: false,
      rowId: "acs-zhaoxin-ports/zhaoxin",
    });
    expect(ask({ ...DSP, vendor: 0x1d17, device: 0x0721 }, { override })).toEqual({
      enabled: true,
      rowId: "acs-zhaoxin-ports/zhaoxin",
    });
  });

  it("Zhaoxin endpoints get no opinion from the ports row, so the override answers", () => {
    const override = parseAcsOverride("multifunction");
    expect(ask({ ...EP, vendor: 0x1d17, device: 0x0800, multifunction: true }, { override })?.rowId).toBe(
      "acs-override/pcie-acs-override",
    );
  });

  it("Wangxun: a definite no for any unlisted device beats the override", () => {
    const override = parseAcsOverride("multifunction,id:8088:0200");
    expect(ask({ ...EP, vendor: 0x8088, device: 0x0200, multifunction: true }, { override })).toEqual({
      enabled: false,
      rowId: "acs-wangxun-nic/wangxun",
    });
    expect(ask({ ...EP, vendor: 0x8088, device: 0x1001, multifunction: true }, { override })?.enabled).toBe(true);
  });

  it("TV11(b): a failed PCH workaround answers false and beats the override", () => {
    const override = parseAcsOverride("downstream");
    expect(ask({ ...RP, vendor: 0x8086, device: 0x8c14, multifunction: true }, { override })).toEqual({
      enabled: false,
      rowId: "acs-intel-pch/intel",
    });
  });
});

describe("TV11(a) Intel PCH root ports with the workaround", () => {
  it("answers for SV|RR|CR|UF, not for TB or EC", () => {
    const ok = { pchQuirkEnabled: () => true };
    expect(ask({ ...RP, vendor: 0x8086, device: 0x8c10 }, ok)?.enabled).toBe(true);
    expect(ask({ ...RP, vendor: 0x8086, device: 0x8c10 }, ok, PCI_ACS_TB)?.enabled).toBe(false);
    expect(ask({ ...RP, vendor: 0x8086, device: 0x8c10 }, ok, PCI_ACS_EC)?.enabled).toBe(false);
  });

  it("without the flag only an empty request passes", () => {
    expect(ask({ ...RP, vendor: 0x8086, device: 0x1d12 }, {}, 0)?.enabled).toBe(true);
    expect(ask({ ...RP, vendor: 0x8086, device: 0x1d12 })?.enabled).toBe(false);
  });

  it("no opinion for a PCH id that is not a root port or not in the list", () => {
    expect(ask({ ...DSP, vendor: 0x8086, device: 0x8c10 })).toBeUndefined();
    expect(ask({ ...RP, vendor: 0x8086, device: 0x1d11 })).toBeUndefined();
  });
});

describe("TV12 multifunction NIC", () => {
  it("I350 functions are each isolated by mf_endpoint", () => {
    const fns = [0, 1, 2, 3].map((fn) =>
      makeFn({ ...EP, vendor: 0x8086, device: 0x1521, bus: 4, devfn: fn, multifunction: true }),
    );
    const ctx = ctxFor(fns);
    for (const f of fns) expect(acsQuirkAnswer(f, REQ_ACS_FLAGS, ctx)).toEqual({ enabled: true, rowId: "acs-mf-endpoint/intel-i350" });
  });

  it("an unlisted vendor gets no quirk", () => {
    expect(ask({ ...EP, vendor: 0x1234, device: 0x1521, multifunction: true })).toBeUndefined();
  });

  it("mf_endpoint refuses egress control", () => {
    expect(ask({ ...EP, vendor: 0x8086, device: 0x1521 }, {}, REQ_ACS_FLAGS | PCI_ACS_EC)?.enabled).toBe(false);
  });
});

describe("amd_sb", () => {
  const sb = { vendor: 0x1002, device: 0x4385, multifunction: true, bus: 0, devfn: 0xa0 };

  it("answers on the root bus with IVRS: only RR|CR|EC|DT of the request count", () => {
    expect(ask(sb, { ivrsPresent: true })).toEqual({ enabled: true, rowId: "acs-amd-sb/ati" });
    expect(ask(sb, { ivrsPresent: true }, PCI_ACS_SV | PCI_ACS_UF)?.enabled).toBe(true);
    expect(ask(sb, { ivrsPresent: true }, PCI_ACS_RR | PCI_ACS_EC)?.enabled).toBe(false);
  });

  it("no opinion without IVRS, off the root bus, or single-function", () => {
    expect(ask(sb)).toBeUndefined();
    expect(ask({ ...sb, multifunction: false }, { ivrsPresent: true })).toBeUndefined();
    const rp = makeFn({ ...RP, vendor: 0x1234, device: 1, devfn: 0x08, secondary: 1, subordinate: 1 });
    const below = makeFn({ ...sb, bus: 1 });
    expect(acsQuirkAnswer(below, REQ_ACS_FLAGS, ctxFor([rp, below], { ivrsPresent: true }))).toBeUndefined();
  });
});

describe("intel_spt_pch reads control at cap+0x08", () => {
  const raw = (cap: number, ctrl: number): Uint8Array => {
    const bytes = new Uint8Array(0x200);
    const v = new DataView(bytes.buffer);
    v.setUint32(0x144, cap, true);
    v.setUint32(0x148, ctrl, true);
    return bytes;
  };
  // the standard control word (+0x06) says everything is on; it must be ignored
  const spt = { ...RP, vendor: 0x8086, device: 0xa2e7, acs: { state: "present", offset: 0x140, cap: 0x1f, ctrl: 0x7f } } as const;

  it("enabled control dword → true; empty → false", () => {
    expect(ask(spt, { rawConfig: () => raw(0x1f, 0x1d) })).toEqual({ enabled: true, rowId: "acs-intel-spt-pch/intel" });
    expect(ask(spt, { rawConfig: () => raw(0x1f, 0x00) })?.enabled).toBe(false);
  });

  it("unimplemented features count as on, except egress control", () => {
    expect(ask(spt, { rawConfig: () => raw(PCI_ACS_SV | PCI_ACS_RR, PCI_ACS_SV | PCI_ACS_RR) })?.enabled).toBe(true);
    expect(ask(spt, { rawConfig: () => raw(0x1f, 0x1d) }, REQ_ACS_FLAGS | PCI_ACS_EC)?.enabled).toBe(false);
  });

  it("acsCtrl takes precedence; without any control source nothing counts as enabled", () => {
    expect(ask(spt, { rawConfig: () => raw(0x1f, 0), acsCtrl: () => 0x1d })?.enabled).toBe(true);
    expect(ask(spt)?.enabled).toBe(false);
  });

  it("no opinion without an ACS capability (or when it was not read)", () => {
    expect(ask({ ...spt, acs: { state: "absent" } })).toBeUndefined();
    expect(ask({ ...spt, acs: { state: "unknown" } })).toBeUndefined();
  });
});

describe("other quirk functions", () => {
  it("cavium: root ports in the id ranges only", () => {
    expect(ask({ ...RP, vendor: 0x177d, device: 0xa7ff })?.rowId).toBe("acs-cavium/cavium");
    expect(ask({ ...RP, vendor: 0x177d, device: 0xaf84 })?.enabled).toBe(true);
    expect(ask({ ...RP, vendor: 0x177d, device: 0xa800 })).toBeUndefined();
    expect(ask({ ...EP, vendor: 0x177d, device: 0xa000 })).toBeUndefined();
  });

  it("al: root ports only", () => {
    expect(ask({ ...RP, vendor: 0x1c36, device: 0x0031 })?.enabled).toBe(true);
    expect(ask({ ...RP, vendor: 0x1c36, device: 0x0031 }, {}, PCI_ACS_CR | PCI_ACS_TB)?.enabled).toBe(false);
    expect(ask({ ...EP, vendor: 0x1c36, device: 0x0031 })).toBeUndefined();
  });

  it("rciep: only RC integrated endpoints", () => {
    expect(ask({ ...EP, vendor: 0x8086, device: 0x3456 })).toBeUndefined();
    expect(ask({ isPcie: true, pcieType: 0x9, vendor: 0x8086, device: 0x3456 })?.enabled).toBe(true);
  });
});

describe("pcie_acs_override row", () => {
  const dsp = { ...DSP, vendor: 0x1234, device: 0x5678 };

  it("TV4: a downstream port without ACS is isolated with `downstream`", () => {
    expect(ask(dsp, { override: parseAcsOverride("downstream") })).toEqual({
      enabled: true,
      rowId: "acs-override/pcie-acs-override",
    });
  });

  it("is not consulted without the option, or with unrelated options", () => {
    expect(ask(dsp)).toBeUndefined();
    expect(ask(dsp, { override: parseAcsOverride("multifunction") })).toBeUndefined();
  });

  it("no opinion for conventional functions and functions that have ACS (even disabled)", () => {
    const override = parseAcsOverride("downstream,multifunction,id:1234:5678");
    expect(ask({ ...dsp, isPcie: false, pcieType: 0 }, { override })).toBeUndefined();
    expect(ask({ ...dsp, acs: { state: "present", offset: 0x100, cap: 0x1f, ctrl: 0 } }, { override })).toBeUndefined();
  });

  it("ids match any PCIe type and ignore the request", () => {
    const override = parseAcsOverride("id:1234:5678");
    expect(ask({ ...dsp, pcieType: 0x7 }, { override }, 0x7f)?.enabled).toBe(true);
  });

  it("multifunction: endpoint-like multifunction functions only", () => {
    const override = parseAcsOverride("multifunction");
    expect(ask({ ...EP, vendor: 0x1234, device: 1, multifunction: true }, { override })?.enabled).toBe(true);
    expect(ask({ ...EP, vendor: 0x1234, device: 1, multifunction: false }, { override })).toBeUndefined();
    expect(ask({ ...RP, vendor: 0x1234, device: 1, multifunction: true }, { override })).toBeUndefined();
  });
});

describe("parseAcsOverride", () => {
  it("empty value", () => {
    expect(parseAcsOverride("")).toEqual({ downstream: false, multifunction: false, ids: [], warnings: [] });
  });

  it("options, ids, empty tokens and the parameter name", () => {
    expect(parseAcsOverride("pcie_acs_override=,downstream,,multifunction,id:8086:10FB,")).toEqual({
      downstream: true,
      multifunction: true,
      ids: [{ vendor: 0x8086, device: 0x10fb }],
      warnings: [],
    });
  });

  it("options match as prefixes of a token, case-sensitively", () => {
    const o = parseAcsOverride("downstream-ports,Multifunction");
    expect(o.downstream).toBe(true);
    expect(o.multifunction).toBe(false);
    expect(o.warnings).toEqual(['unknown PCIe ACS override option "Multifunction" ignored']);
  });

  it("malformed ids are ignored with a warning", () => {
    const o = parseAcsOverride("id:8086,id:xyz:1234,id:80861:10fb,id:1:2");
    expect(o.ids).toEqual([{ vendor: 1, device: 2 }]);
    expect(o.warnings).toHaveLength(3);
    expect(o.warnings.every((w) => w.startsWith("invalid PCIe ACS override id"))).toBe(true);
  });

  it("at most 15 ids; extras warn", () => {
    const ids = Array.from({ length: 17 }, (_, i) => `id:1234:${(i + 1).toString(16).padStart(4, "0")}`);
    const o = parseAcsOverride(ids.join(","));
    expect(o.ids).toHaveLength(15);
    expect(o.ids.at(-1)).toEqual({ vendor: 0x1234, device: 0x000f });
    expect(o.warnings).toHaveLength(2);
    expect(o.warnings[0]).toMatch(/^Out of PCIe ACS override slots/);
    expect(o.warnings[0]).toContain("id:1234:0010");
  });
});

describe("acsEnableHook", () => {
  it("PCH root ports get the PCH hook, with or without ACS", () => {
    expect(acsEnableHook(makeFn({ ...RP, vendor: 0x8086, device: 0x3b42 }))).toEqual({
      rowId: "acs-enable-intel-pch/intel",
      hook: "intel_pch",
    });
  });

  it("SPT root ports get the SPT hook only with an ACS capability", () => {
    const spt = { ...RP, vendor: 0x8086, device: 0x9d1b } as const;
    expect(acsEnableHook(makeFn({ ...spt, acs: { state: "present", offset: 0x140, cap: 0x1f, ctrl: 0 } }))?.hook).toBe(
      "intel_spt_pch",
    );
    expect(acsEnableHook(makeFn(spt))).toBeUndefined();
  });

  it("anything else uses the standard enabling", () => {
    expect(acsEnableHook(makeFn({ ...RP, vendor: 0x8086, device: 0x1234 }))).toBeUndefined();
    expect(acsEnableHook(makeFn({ ...EP, vendor: 0x8086, device: 0x8c10 }))).toBeUndefined();
    expect(acsEnableHook(makeFn({ ...RP, vendor: 0x1022, device: 0x8c10 }))).toBeUndefined();
  });
});
