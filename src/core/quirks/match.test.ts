import { describe, expect, it } from "vitest";
import { inIdSet, matchesRow, onRootBus, rowActive } from "./match.js";
import type { QuirkMatch } from "./row.js";
import { makeFn, makeTopology } from "./test-fixtures.js";

const m = (match: QuirkMatch) => ({ match });

describe("matchesRow", () => {
  const fn = makeFn({ vendor: 0x8086, device: 0x1521, subsystemVendor: 0x8086, subsystemDevice: 0x0001, classCode: 0x020000 });

  it("vendor and device forms", () => {
    expect(matchesRow(fn, m({ vendor: 0x8086, device: 0x1521 }))).toBe(true);
    expect(matchesRow(fn, m({ vendor: "any", device: "any" }))).toBe(true);
    expect(matchesRow(fn, m({ vendor: 0x8086, device: [0x1520, 0x1521] }))).toBe(true);
    expect(matchesRow(fn, m({ vendor: 0x8086, device: { from: 0x1500, to: 0x1521 } }))).toBe(true);
    expect(matchesRow(fn, m({ vendor: 0x8086, device: { from: 0x1522, to: 0x1530 } }))).toBe(false);
    expect(matchesRow(fn, m({ vendor: 0x8087, device: "any" }))).toBe(false);
    expect(matchesRow(fn, m({ vendor: 0x8086, device: [] }))).toBe(false);
  });

  it("subsystem ids must match when named; a function without them never matches", () => {
    expect(matchesRow(fn, m({ vendor: 0x8086, device: "any", subsystemDevice: 0x0001 }))).toBe(true);
    expect(matchesRow(fn, m({ vendor: 0x8086, device: "any", subsystemDevice: 0x0002 }))).toBe(false);
    const bare = makeFn({ vendor: 0x8086, device: 0x1521 });
    expect(matchesRow(bare, m({ vendor: 0x8086, device: "any", subsystemVendor: 0x8086 }))).toBe(false);
  });

  it("class under a mask", () => {
    expect(matchesRow(fn, m({ vendor: "any", device: "any", classCode: 0x0200ff, classMask: 0xffff00 }))).toBe(true);
    expect(matchesRow(fn, m({ vendor: "any", device: "any", classCode: 0x020001 }))).toBe(false);
  });
});

describe("inIdSet", () => {
  it("ids and inclusive ranges", () => {
    const set = [0x10, { from: 0x20, to: 0x22 }];
    expect([0x10, 0x20, 0x22].map((id) => inIdSet(id, set))).toEqual([true, true, true]);
    expect([0x11, 0x1f, 0x23].map((id) => inIdSet(id, set))).toEqual([false, false, false]);
  });
});

describe("rowActive", () => {
  const k = (major: number, minor: number) => ({ kernel: { major, minor } });

  it("a row without a range is always active", () => {
    expect(rowActive({})).toBe(true);
    expect(rowActive({}, k(3, 0))).toBe(true);
  });

  it("since is inclusive, ≈ is accepted", () => {
    const row = { kernels: { since: "≈5.5" } };
    expect(rowActive(row, k(5, 4))).toBe(false);
    expect(rowActive(row, k(5, 5))).toBe(true);
    expect(rowActive(row)).toBe(true);
  });

  it("until is exclusive and is not current behaviour", () => {
    const row = { kernels: { since: "4.16", until: "5.1" } };
    expect(rowActive(row, k(4, 15))).toBe(false);
    expect(rowActive(row, k(5, 0))).toBe(true);
    expect(rowActive(row, k(5, 1))).toBe(false);
    expect(rowActive(row)).toBe(false);
  });

  it("since unknown: only with includeProposed", () => {
    const row = { kernels: { since: "unknown" } };
    expect(rowActive(row)).toBe(false);
    expect(rowActive(row, k(9, 0))).toBe(false);
    expect(rowActive(row, { includeProposed: true })).toBe(true);
  });
});

describe("onRootBus", () => {
  it("root bus, child bus, unknown bus", () => {
    const rp = makeFn({ isPcie: true, pcieType: 4, headerType: 1, devfn: 0x08, secondary: 1, subordinate: 1 });
    const ep = makeFn({ bus: 1 });
    const t = makeTopology([rp, ep]);
    expect(onRootBus(t, rp)).toBe(true);
    expect(onRootBus(t, ep)).toBe(false);
    expect(onRootBus(t, { segment: 0, bus: 0x42 })).toBe(true);
  });
});
