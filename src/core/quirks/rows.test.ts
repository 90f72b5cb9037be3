// one case runner: every row of every table fires on a synthetic function with its ids, and not on a near miss
import { describe, expect, it } from "vitest";
import { parseKernelVersion } from "../kernel/version.js";
import { REQ_ACS_FLAGS } from "../regs/acs.js";
import { acsEnableHook, acsQuirkAnswer, parseAcsOverride } from "./acs-quirks.js";
import type { AcsQuirkContext } from "./acs-quirks.js";
import { ACS_ENABLE_ROWS, ACS_QUIRK_ROWS } from "./acs-table.js";
import { ALIAS_QUIRK_ROWS } from "./alias-table.js";
import { applyAliasQuirks } from "./apply.js";
import type { ApplyAliasOptions } from "./apply.js";
import type { AcsQuirkFn, QuirkMatch, QuirkRow } from "./row.js";
import { makeFn, makeTopology } from "./test-fixtures.js";
import type { FnPartial } from "./test-fixtures.js";

const RP = { isPcie: true, pcieType: 0x4, headerType: 1, bridgeKind: "root-port" } as const satisfies FnPartial;
const DSP = { isPcie: true, pcieType: 0x6, headerType: 1, bridgeKind: "downstream-port" } as const satisfies FnPartial;
const EP = { isPcie: true, pcieType: 0x0 } as const satisfies FnPartial;

// every id a device spec names (a representative for "any")
function idsOf(device: QuirkMatch["device"], any: number): number[] {
  if (device === "any") return [any];
  if (typeof device === "number") return [device];
  if ("from" in device) return [device.from, device.to];
  return [...device];
}

// an id close to the listed ones that the spec does not name
function nearMissDevice(device: QuirkMatch["device"]): number | undefined {
  if (device === "any") return undefined;
  const listed = typeof device === "number" ? [device] : "from" in device ? [device.from, device.to] : [...device];
  const inSpec = (d: number): boolean =>
    typeof device === "number" ? d === device : "from" in device ? d >= device.from && d <= device.to : device.includes(d);
  for (let d = Math.max(...listed) + 1; ; d++) if (!inSpec(d)) return d & 0xffff;
}

function gateFor(row: QuirkRow): ApplyAliasOptions {
  const since = row.kernels?.since;
  const kernel = since === undefined ? undefined : parseKernelVersion(since.replace("≈", ""));
  return { kernel, includeProposed: true };
}

// ---- alias rows ----

// a function (and its surroundings) in which the row's effect takes hold
function aliasScene(row: QuirkRow, vendor: number, device: number): { fns: ReturnType<typeof makeFn>[]; bdf: string } {
  const m = row.match;
  const ids: FnPartial = {
    vendor,
    device,
    ...(m.subsystemVendor !== undefined && { subsystemVendor: m.subsystemVendor }),
    ...(m.subsystemDevice !== undefined && { subsystemDevice: m.subsystemDevice }),
    ...(m.classCode !== undefined && { classCode: m.classCode }),
  };
  const e = row.effect;
  if (e.kind === "flag" && e.flag === "pcie-bridge-alias") {
    const rp = makeFn({ ...RP, vendor: 0x1234, device: 1, bus: 0, devfn: 0xe3, secondary: 3, subordinate: 4 });
    const br = makeFn({ ...ids, bus: 3, devfn: 0, headerType: 1, secondary: 4, subordinate: 4 });
    return { fns: [rp, br], bdf: br.bdf };
  }
  const devfn = e.kind === "alias-function" && e.fn === 0 ? 3 : 0;
  const f = makeFn({ ...ids, bus: 5, devfn, multifunction: devfn !== 0 });
  return { fns: [f], bdf: f.bdf };
}

describe.each(ALIAS_QUIRK_ROWS.map((r) => [r.id, r] as const))("alias row %s", (_id, row) => {
  const fired = (fns: ReturnType<typeof makeFn>[], bdf: string): string[] =>
    applyAliasQuirks(makeTopology(fns), gateFor(row)).get(bdf)?.fired.map((f) => f.id) ?? [];

  it.each(idsOf(row.match.device, 0x1234))("fires for device %s", (device) => {
    const { fns, bdf } = aliasScene(row, row.match.vendor === "any" ? 0x1234 : row.match.vendor, device);
    expect(fired(fns, bdf)).toContain(row.id);
  });

  it("does not fire on a near miss", () => {
    const vendor = row.match.vendor === "any" ? 0x1234 : row.match.vendor;
    const device = idsOf(row.match.device, 0x1234)[0]!;
    const misses: FnPartial[] = [];
    if (row.match.vendor !== "any") misses.push({ vendor: vendor + 1 });
    const near = nearMissDevice(row.match.device);
    if (near !== undefined) misses.push({ device: near });
    if (row.match.subsystemDevice !== undefined) misses.push({ subsystemDevice: row.match.subsystemDevice + 1 });
    if (row.match.subsystemVendor !== undefined) misses.push({ subsystemVendor: undefined });
    if (row.match.classCode !== undefined) misses.push({ classCode: 0x058000 });
    expect(misses.length).toBeGreaterThan(0);
    for (const miss of misses) {
      const { fns, bdf } = aliasScene(row, vendor, device);
      const patched = fns.map((f) => (f.bdf === bdf ? { ...f, ...miss } : f));
      expect(fired(patched, bdf), JSON.stringify(miss)).not.toContain(row.id);
    }
  });
});

// ---- ACS rows ----

const baseCtx = (fns: ReturnType<typeof makeFn>[]): AcsQuirkContext => ({
  topology: makeTopology(fns),
  ivrsPresent: false,
  pchQuirkEnabled: () => false,
});

// SPT port image: ACS at 0x140, cap dword 0x1f at +4, control dword 0x1d at +8
const sptRaw = (): Uint8Array => {
  const raw = new Uint8Array(0x1000);
  const v = new DataView(raw.buffer);
  v.setUint32(0x144, 0x1f, true);
  v.setUint32(0x148, 0x1d, true);
  return raw;
};

// per quirk function: what a function needs for that function to answer, and a representative id for "any"
const ACS_SCENES: Record<AcsQuirkFn, { fn: FnPartial; ctx?: Partial<AcsQuirkContext>; anyDevice: number; anyVendor?: number }> = {
  amd_sb: { fn: { multifunction: true, bus: 0 }, ctx: { ivrsPresent: true }, anyDevice: 0 },
  mf_endpoint: { fn: { ...EP, multifunction: true }, anyDevice: 0 },
  rciep: { fn: { isPcie: true, pcieType: 0x9 }, anyDevice: 0x3456 },
  qcom_rp: { fn: RP, anyDevice: 0 },
  nxp_rp: { fn: RP, anyDevice: 0 },
  xgene: { fn: RP, anyDevice: 0 },
  brcm: { fn: RP, anyDevice: 0 },
  intel_pch: { fn: RP, ctx: { pchQuirkEnabled: () => true }, anyDevice: 0x8c10 },
  intel_spt_pch: {
    fn: { ...RP, acs: { state: "present", offset: 0x140, cap: 0x1f, ctrl: 0 } },
    ctx: { rawConfig: sptRaw },
    anyDevice: 0xa110,
  },
  cavium: { fn: RP, anyDevice: 0xa000 },
  al: { fn: RP, anyDevice: 0 },
  zhaoxin_ports: { fn: DSP, anyDevice: 0x0710 },
  wangxun_nic: { fn: { ...EP, multifunction: true }, anyDevice: 0x0100 },
  acs_override: { fn: DSP, ctx: { override: parseAcsOverride("downstream") }, anyDevice: 0x1111, anyVendor: 0x1234 },
};

describe.each(ACS_QUIRK_ROWS.map((r) => [r.id, r] as const))("ACS row %s", (_id, row) => {
  const scene = ACS_SCENES[row.effect.fn];
  const vendor = row.match.vendor === "any" ? scene.anyVendor! : row.match.vendor;
  const answer = (p: FnPartial): ReturnType<typeof acsQuirkAnswer> => {
    const f = makeFn({ ...scene.fn, vendor, ...p, bus: 0 });
    return acsQuirkAnswer(f, REQ_ACS_FLAGS, { ...baseCtx([f]), ...scene.ctx });
  };

  it.each(idsOf(row.match.device, scene.anyDevice))("answers for device %s", (device) => {
    expect(answer({ device })).toEqual({ enabled: true, rowId: row.id });
  });

  it("does not answer on a near miss", () => {
    const device = idsOf(row.match.device, scene.anyDevice)[0]!;
    if (row.match.vendor !== "any") expect(answer({ vendor: vendor + 1, device })?.rowId).not.toBe(row.id);
    const near = nearMissDevice(row.match.device);
    if (near !== undefined) expect(answer({ device: near })?.rowId).not.toBe(row.id);
    if (row.match.vendor === "any") expect(answer({ device, acs: { state: "present", offset: 0x100, cap: 0, ctrl: 0 } })).toBeUndefined();
  });
});

describe.each(ACS_ENABLE_ROWS.map((r) => [r.id, r] as const))("ACS enable row %s", (_id, row) => {
  const scene = ACS_SCENES[row.effect.hook];
  const fnFor = (p: FnPartial): ReturnType<typeof makeFn> =>
    makeFn({ ...scene.fn, vendor: row.match.vendor as number, device: scene.anyDevice, ...p });

  it("names its hook", () => {
    expect(acsEnableHook(fnFor({}))).toEqual({ rowId: row.id, hook: row.effect.hook });
  });

  it("does not apply on a near miss", () => {
    expect(acsEnableHook(fnFor({ vendor: 0x8087 }))).toBeUndefined();
    expect(acsEnableHook(fnFor({ device: 0x1234 }))).toBeUndefined();
    expect(acsEnableHook(fnFor({ isPcie: true, pcieType: 0x6 }))).toBeUndefined();
  });
});

describe("tables", () => {
  it("row ids are unique", () => {
    const ids = [...ALIAS_QUIRK_ROWS, ...ACS_QUIRK_ROWS, ...ACS_ENABLE_ROWS].map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("every row cites the kernel or the out-of-tree patch", () => {
    for (const r of [...ALIAS_QUIRK_ROWS, ...ACS_QUIRK_ROWS, ...ACS_ENABLE_ROWS]) {
      expect(r.ref).toMatch(/torvalds\/linux|out-of-tree/);
      expect(r.reason.length).toBeGreaterThan(10);
    }
  });

  it("row counts", () => {
    expect({ alias: ALIAS_QUIRK_ROWS.length, acs: ACS_QUIRK_ROWS.length, enable: ACS_ENABLE_ROWS.length }).toEqual({
      alias: 22,
      acs: 29,
      enable: 2,
    });
  });

  it("the mainline ACS rows expand to the 115 vendor:device entries of the v6.10 table", () => {
    const entries = ACS_QUIRK_ROWS.filter((r) => r.effect.fn !== "acs_override").reduce(
      (n, r) => n + (Array.isArray(r.match.device) ? r.match.device.length : 1),
      0,
    );
    expect(entries).toBe(115);
  });

  it("the override is the last ACS row", () => {
    expect(ACS_QUIRK_ROWS.at(-1)?.effect).toEqual({ kind: "acs", fn: "acs_override" });
  });
});
