import { describe, expect, it } from "vitest";
import { buildConfig } from "../design/synth-config.js";
import { decodeConfig } from "./decode.js";

const codes = (bytes: Uint8Array, complete = true): string[] => decodeConfig(bytes, { complete }).issues.map((i) => i.code);

describe("decodeConfig", () => {
  it("decodes a root port with ACS, PCIe type and bus numbers", () => {
    const bytes = buildConfig({ headerType: 1, bus: { primary: 0, secondary: 1, subordinate: 3 }, pcieType: 4, acs: { cap: 0x5f, ctrl: 0x1d } });
    const { config, issues } = decodeConfig(bytes);
    expect(issues).toEqual([]);
    expect(config?.bridge).toEqual({ primary: 0, secondary: 1, subordinate: 3 });
    expect(config?.express?.type).toBe(4);
    expect(config?.acs).toMatchObject({ cap: 0x5f, ctrl: 0x1d });
    expect(config?.extendedKnown).toBe(true);
  });

  it("decodes SR-IOV, ARI and phantom functions", () => {
    const bytes = buildConfig({ pcieType: 0, phantom: 2, ari: { nextFunction: 1 }, sriov: { totalVFs: 8, numVFs: 4, offset: 0x80, stride: 2, vfDevice: 0x10ed } });
    const { config } = decodeConfig(bytes);
    expect(config?.express?.phantomFunctions).toBe(2);
    expect(config?.ari?.nextFunction).toBe(1);
    expect(config?.sriov).toMatchObject({ totalVFs: 8, numVFs: 4, firstVfOffset: 0x80, vfStride: 2, vfDeviceId: 0x10ed, vfEnable: true });
  });

  it("records a 64-byte unprivileged dump as unknown capabilities, not as absent", () => {
    const bytes = buildConfig({ pcieType: 0, acs: { cap: 0x1f, ctrl: 0x1f }, size: 64 });
    const { config, issues } = decodeConfig(bytes, { complete: false });
    expect(issues.map((i) => i.code)).toContain("config-short");
    expect(config?.capabilitiesKnown).toBe(false);
    expect(config?.extendedKnown).toBe(false);
    expect(config?.acs).toBeUndefined();
  });

  it("a 256-byte PCIe dump from lspci -xxx leaves extended space unknown", () => {
    const bytes = buildConfig({ pcieType: 0, size: 256 });
    expect(decodeConfig(bytes, { complete: false }).config?.extendedKnown).toBe(false);
    expect(decodeConfig(bytes, { complete: true }).config?.extendedKnown).toBe(true);
  });

  it("stops a looping standard capability list", () => {
    const bytes = buildConfig({ pcieType: 0 });
    bytes[0x41] = 0x40; // next pointer back to itself
    expect(codes(bytes)).toContain("cap-loop");
  });

  it("stops a looping extended capability list", () => {
    const bytes = buildConfig({ pcieType: 0, acs: { cap: 1, ctrl: 1 } });
    const v = new DataView(bytes.buffer);
    v.setUint32(0x100, 0x000d | (1 << 16) | (0x100 << 20), true);
    const r = decodeConfig(bytes);
    expect(r.issues.map((i) => i.code)).toContain("cap-loop");
    expect(r.config?.acs?.cap).toBe(1);
  });

  it("reports a capability pointer below 0x40", () => {
    const bytes = buildConfig({ pcieType: 0 });
    bytes[0x41] = 0x20;
    expect(codes(bytes)).toContain("cap-pointer-invalid");
  });

  it("reports an extended next pointer below 0x100", () => {
    const bytes = buildConfig({ pcieType: 0, acs: { cap: 1, ctrl: 1 } });
    new DataView(bytes.buffer).setUint32(0x100, 0x000d | (1 << 16) | (0x080 << 20), true);
    expect(codes(bytes)).toContain("cap-pointer-invalid");
  });

  it("treats an all-ones function as not responding and walks nothing", () => {
    const bytes = new Uint8Array(256).fill(0xff);
    const r = decodeConfig(bytes);
    expect(r.issues.map((i) => i.code)).toContain("config-all-ones");
    expect(r.config?.capabilities).toEqual([]);
  });

  it("returns no config for a dump shorter than the identity bytes", () => {
    expect(decodeConfig(new Uint8Array(8)).config).toBeUndefined();
    expect(decodeConfig(new Uint8Array(0)).issues[0]?.code).toBe("config-absent");
  });

  it("keeps unknown capabilities as unknown records", () => {
    const bytes = buildConfig({ pcieType: 0 });
    bytes[0x41] = 0x80;
    bytes[0x80] = 0x42; // not a capability we decode
    const caps = decodeConfig(bytes).config!.capabilities;
    expect(caps.map((c) => c.kind)).toEqual(["express", "unknown"]);
  });

  it("marks a capability cut off by the end of the dump as truncated", () => {
    const bytes = buildConfig({ pcieType: 0, size: 256 });
    bytes[0x41] = 0xfc;
    bytes[0xfc] = 0x10; // a second express cap needing bytes past 0x100
    const r = decodeConfig(bytes);
    expect(r.issues.map((i) => i.code)).toContain("cap-truncated");
  });

  it("ends the standard list at ID 0xff", () => {
    const bytes = buildConfig({ pcieType: 0 });
    bytes[0x41] = 0x80;
    bytes[0x80] = 0xff;
    expect(decodeConfig(bytes).config!.capabilities.length).toBe(1);
  });
});
