import { describe, expect, test } from "vitest";
import { claimDmar, claimIvrs, dmarScopeDevices, dmarUnits, isDmarUnitIgnored, ivrsUnits, resolveDmarScope } from "./claim.js";
import type { DmarUnit, PciResolver } from "./claim.js";
import { parseDmar } from "./dmar.js";
import { encodeDmar, encodeDrhd, encodeIvhd, encodeIvrs, ivhdAliasEntry, ivhdEntry4, ivhdSpecialEntry } from "./encode.js";
import type { DmarScopeSpec } from "./encode.js";
import { parseIvrs } from "./ivrs.js";

const devfn = (slot: number, fn: number): number => (slot << 3) | fn;

/** a resolver over a list of functions `ssss:bb:dd.f`, bridges given as `bdf>sec-sub` */
function resolver(spec: readonly string[]): PciResolver {
  const present = new Map<string, { secondary: number; subordinate: number } | undefined>();
  for (const item of spec) {
    const [bdf, range] = item.split(">");
    const m = /^(?:([0-9a-f]+):)?([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/.exec(bdf!)!;
    const key = `${parseInt(m[1] ?? "0", 16)}:${parseInt(m[2]!, 16)}:${devfn(parseInt(m[3]!, 16), Number(m[4]))}`;
    const [sec, sub] = (range ?? "").split("-").map((x) => parseInt(x, 16));
    present.set(key, range ? { secondary: sec!, subordinate: sub! } : undefined);
  }
  return {
    bridgeRange: (segment, bus, df) => present.get(`${segment}:${bus}:${df}`),
    exists: (segment, bus, df) => present.has(`${segment}:${bus}:${df}`),
  };
}

const ep = (bus: number, slot: number, fn = 0): DmarScopeSpec => ({ type: 1, startBus: bus, path: [[slot, fn]] });
const br = (bus: number, slot: number, fn = 0): DmarScopeSpec => ({ type: 2, startBus: bus, path: [[slot, fn]] });
const units = (...drhds: number[][]): DmarUnit[] => {
  const t = parseDmar(encodeDmar(drhds));
  expect(t.issues).toEqual([]);
  return dmarUnits(t);
};
const name = (u: { name: string } | undefined): string | undefined => u?.name;

describe("Intel: DRHD list order and names", () => {
  test("TV20: graphics DRHD A then INCLUDE_ALL DRHD B; the iGPU goes to A, the rest to B", () => {
    const list = units(encodeDrhd({ registerBase: 0xfed90000n, scopes: [ep(0, 2)] }), encodeDrhd({ registerBase: 0xfed91000n, includeAll: true }));
    expect(list.map((u) => [u.name, u.includeAll])).toEqual([
      ["dmar0", false],
      ["dmar1", true],
    ]);
    const pci = resolver(["00:00.0", "00:02.0", "00:14.0", "00:1f.0", "00:1f.3", "00:1f.4"]);
    const claims = ["00.0", "02.0", "14.0", "1f.0", "1f.3", "1f.4"].map((x) => {
      const [slot, fn] = x.split(".").map((v) => parseInt(v, 16));
      return name(claimDmar(list, pci, { segment: 0, bus: 0, devfn: devfn(slot!, fn!) }));
    });
    expect(claims).toEqual(["dmar1", "dmar0", "dmar1", "dmar1", "dmar1", "dmar1"]);
  });

  test("non-INCLUDE_ALL units go to the head (reverse table order), INCLUDE_ALL to the tail", () => {
    const list = units(
      encodeDrhd({ registerBase: 0x1000n, scopes: [ep(0, 2)] }),
      encodeDrhd({ registerBase: 0x2000n, includeAll: true }),
      encodeDrhd({ registerBase: 0x3000n, scopes: [ep(0, 3)] }),
      encodeDrhd({ registerBase: 0x4000n, includeAll: true, segment: 1 }),
      encodeDrhd({ registerBase: 0x5000n, scopes: [ep(0, 4)] }),
    );
    expect(list.map((u) => u.name)).toEqual(["dmar4", "dmar2", "dmar0", "dmar1", "dmar3"]);
    expect(list.map((u) => u.registerBase)).toEqual([0x5000n, 0x3000n, 0x1000n, 0x2000n, 0x4000n]);
  });

  test("a repeated DRHD (same segment and register base) is not a second unit", () => {
    const t = parseDmar(encodeDmar([encodeDrhd({ registerBase: 0x1000n, scopes: [ep(0, 2)] }), encodeDrhd({ registerBase: 0x1000n }), encodeDrhd({ registerBase: 0x2000n, includeAll: true })]));
    expect(dmarUnits(t).map((u) => [u.name, u.drhd.offset])).toEqual([
      ["dmar0", 0x30],
      ["dmar1", 0x30 + 24 + 16],
    ]);
  });
});

describe("Intel: scope resolution and claims", () => {
  // 00:1c.0 root port → bus 2; 02:00.0 switch upstream port → bus 3..4; 03:01.0 downstream port → bus 4
  const pci = resolver(["00:00.0", "00:02.0", "00:1c.0>02-04", "02:00.0>03-04", "03:01.0>04-04", "04:00.0", "04:00.1", "00:1d.0>05-05", "05:00.0"]);

  test("a path walks through each bridge's secondary bus", () => {
    const scope = (path: [number, number][]): ReturnType<typeof parseDmar>["structures"] =>
      parseDmar(encodeDmar([encodeDrhd({ registerBase: 1n, scopes: [{ type: 1, startBus: 0, path }] })])).structures;
    const first = (path: [number, number][]) => {
      const d = scope(path)[0];
      return d?.kind === "drhd" ? resolveDmarScope(d.scopes[0]!, 0, pci) : undefined;
    };
    expect(first([[0x1c, 0], [0, 0], [1, 0], [0, 1]])).toEqual({ bus: 4, devfn: 1 });
    expect(first([[0x1c, 0], [0, 0]])).toEqual({ bus: 2, devfn: 0 });
    expect(first([[0x1c, 0], [5, 0]])).toBeUndefined(); // nothing at 02:05.0
    expect(first([[0x02, 0], [0, 0]])).toBeUndefined(); // 00:02.0 is not a bridge
    expect(first([[0x20, 0]])).toBeUndefined(); // device number out of range
    expect(first([])).toBeUndefined();
  });

  test("a scope naming a bridge claims the bridge and everything in its bus range, whatever the scope type", () => {
    for (const type of [1, 2]) {
      const list = units(encodeDrhd({ registerBase: 0x1000n, scopes: [{ type, startBus: 0, path: [[0x1c, 0]] }] }));
      const at = (bus: number, slot: number, fn = 0) => name(claimDmar(list, pci, { segment: 0, bus, devfn: devfn(slot, fn) }));
      expect([at(0, 0x1c), at(2, 0), at(3, 1), at(4, 0), at(4, 0, 1)]).toEqual(["dmar0", "dmar0", "dmar0", "dmar0", "dmar0"]);
      expect([at(0, 0), at(0, 0x1d), at(5, 0)]).toEqual([undefined, undefined, undefined]);
    }
  });

  test("IOAPIC / HPET scopes name no PCI function", () => {
    const list = units(encodeDrhd({ registerBase: 0x1000n, scopes: [{ type: 3, startBus: 0, path: [[0x1c, 0]], enumerationId: 2 }] }));
    expect(dmarScopeDevices(list[0]!, pci)).toEqual([]);
    expect(isDmarUnitIgnored(list, list[0]!, pci)).toBe(true);
  });

  test("a VF is looked up through its PF", () => {
    const list = units(encodeDrhd({ registerBase: 0x1000n, scopes: [ep(5, 0)] }));
    expect(name(claimDmar(list, pci, { segment: 0, bus: 6, devfn: 0x10, physfn: { bus: 5, devfn: 0 } }))).toBe("dmar0");
    expect(claimDmar(list, pci, { segment: 0, bus: 6, devfn: 0x10 })).toBeUndefined();
  });

  test("a unit whose scopes name no present device is ignored and claims nothing", () => {
    const list = units(encodeDrhd({ registerBase: 0x1000n, scopes: [ep(0, 0x1c), ep(0, 9)] }), encodeDrhd({ registerBase: 0x2000n, scopes: [ep(0, 9)] }), encodeDrhd({ registerBase: 0x3000n, includeAll: true }));
    const [ignoredUnit, liveUnit, all] = [list.find((u) => u.name === "dmar1")!, list.find((u) => u.name === "dmar0")!, list.find((u) => u.name === "dmar2")!];
    expect(isDmarUnitIgnored(list, ignoredUnit, pci)).toBe(true);
    expect(isDmarUnitIgnored(list, liveUnit, pci)).toBe(false);
    expect(isDmarUnitIgnored(list, all, pci)).toBe(false);
    expect(name(claimDmar(list, pci, { segment: 0, bus: 4, devfn: 0 }))).toBe("dmar0");
    expect(name(claimDmar(list, pci, { segment: 0, bus: 0, devfn: 0 }))).toBe("dmar2");
  });

  test("a device named by two units belongs to the earlier one in list order, which can leave the other ignored", () => {
    const list = units(encodeDrhd({ registerBase: 0x1000n, scopes: [ep(0, 2)] }), encodeDrhd({ registerBase: 0x2000n, scopes: [ep(0, 2), ep(0, 0)] }), encodeDrhd({ registerBase: 0x3000n, scopes: [ep(0, 0)] }));
    // list: dmar2, dmar1, dmar0
    expect(list.map((u) => u.name)).toEqual(["dmar2", "dmar1", "dmar0"]);
    expect(list.map((u) => isDmarUnitIgnored(list, u, pci))).toEqual([false, false, true]);
    expect(name(claimDmar(list, pci, { segment: 0, bus: 0, devfn: devfn(2, 0) }))).toBe("dmar1");
    expect(name(claimDmar(list, pci, { segment: 0, bus: 0, devfn: 0 }))).toBe("dmar2");
  });

  test("units only claim functions of their own segment", () => {
    const list = units(encodeDrhd({ registerBase: 0x1000n, includeAll: true, segment: 1 }), encodeDrhd({ registerBase: 0x2000n, scopes: [ep(0, 2)] }));
    const two = resolver(["00:02.0", "0001:00:02.0"]);
    expect(name(claimDmar(list, two, { segment: 1, bus: 0, devfn: devfn(2, 0) }))).toBe("dmar0");
    expect(name(claimDmar(list, two, { segment: 0, bus: 0, devfn: devfn(2, 0) }))).toBe("dmar1");
    expect(claimDmar(list, two, { segment: 0, bus: 0, devfn: devfn(3, 0) })).toBeUndefined();
  });
});

describe("AMD: units and claims", () => {
  test("one IVHD: selected, ranged, aliased and special devids are claimed; its own BDF is not", () => {
    const t = parseIvrs(
      encodeIvrs([
        encodeIvhd({
          type: 0x10,
          iommuBdf: 0x0002,
          entries: [
            ivhdEntry4(0x02, 0x0000),
            ivhdEntry4(0x02, 0x0002),
            ivhdEntry4(0x03, 0x0100),
            ivhdEntry4(0x04, 0x01ff),
            ivhdAliasEntry(0x42, 0x0301, 0x0300),
            ivhdAliasEntry(0x42, 0x0010, 0x2000),
            ivhdSpecialEntry(0, 0x00a0, 1),
          ],
        }),
      ]),
    );
    expect(t.issues).toEqual([]);
    const list = ivrsUnits(t);
    expect(list.map((u) => [u.name, u.iommuBdf, u.lastDevid])).toEqual([["ivhd0", 0x0002, 0x0301]]);
    const at = (rid: number, segment = 0) => name(claimIvrs(list, rid, segment));
    expect([at(0x0000), at(0x0002), at(0x0150), at(0x0300), at(0x0301), at(0x00a0), at(0x0010)]).toEqual(["ivhd0", undefined, "ivhd0", "ivhd0", "ivhd0", "ivhd0", "ivhd0"]);
    // 0x2000 gets settings as an alias target but lies above last_bdf; 0x0200 is not described
    expect([at(0x2000), at(0x0200), at(0x0000, 1)]).toEqual([undefined, undefined, undefined]);
  });

  test("a later IVHD's entries win, and each IOMMU drops only its own BDF", () => {
    const t = parseIvrs(
      encodeIvrs([
        encodeIvhd({ type: 0x10, iommuBdf: 0x0002, entries: [ivhdEntry4(0x03, 0x0000), ivhdEntry4(0x04, 0x0fff)] }),
        encodeIvhd({ type: 0x10, iommuBdf: 0x0802, entries: [ivhdEntry4(0x02, 0x0002), ivhdEntry4(0x03, 0x0800), ivhdEntry4(0x04, 0x08ff)] }),
        encodeIvhd({ type: 0x10, iommuBdf: 0x0002, segment: 1, entries: [ivhdEntry4(0x01, 0)] }),
      ]),
    );
    const list = ivrsUnits(t);
    expect(list.map((u) => [u.name, u.segment, u.lastDevid])).toEqual([
      ["ivhd0", 0, 0x0fff],
      ["ivhd1", 0, 0x0fff],
      ["ivhd2", 1, 0xffff],
    ]);
    const at = (rid: number, segment = 0) => name(claimIvrs(list, rid, segment));
    expect([at(0x0002), at(0x0802), at(0x0810), at(0x0700), at(0x1000)]).toEqual(["ivhd1", undefined, "ivhd1", "ivhd0", undefined]);
    expect([at(0x0002, 1), at(0x1234, 1), at(0x0002, 2)]).toEqual([undefined, "ivhd2", undefined]);
  });

  test("only IVHDs of the used type become units", () => {
    const t = parseIvrs(
      encodeIvrs([
        encodeIvhd({ type: 0x10, iommuBdf: 0x0002, entries: [ivhdEntry4(0x01, 0)] }),
        encodeIvhd({ type: 0x11, iommuBdf: 0x0002, entries: [ivhdEntry4(0x02, 0x0010)] }),
      ]),
    );
    const list = ivrsUnits(t);
    expect(list.map((u) => [u.name, u.type, u.ivhd.offset])).toEqual([["ivhd0", 0x11, 0x30 + 28]]);
    expect(name(claimIvrs(list, 0x0010, 0))).toBe("ivhd0");
    expect(claimIvrs(list, 0x0008, 0)).toBeUndefined();
  });

  test("no units when Linux would not bring AMD-Vi up", () => {
    const fatal = parseIvrs(encodeIvrs([encodeIvhd({ type: 0x10, iommuBdf: 2, entries: [ivhdEntry4(2, 0), ivhdSpecialEntry(0, 0xa0, 7)] })]));
    expect(ivrsUnits(fatal)).toEqual([]);
    expect(ivrsUnits(parseIvrs(encodeIvrs([])))).toEqual([]);
  });
});
