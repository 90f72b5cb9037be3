import { decodeConfig } from "../config/decode.js";
import { parseBdf } from "../topology/address.js";
import { buildTopology } from "../topology/build.js";
import type { BuildOptions, FunctionInput } from "../topology/build.js";
import type { Topology } from "../topology/model.js";
import type { Snapshot } from "../sources/snapshot.js";
import { buildConfig } from "../design/synth-config.js";
import type { SyntheticFunction } from "../design/synth-config.js";

/** a synthetic function at a BDF (`bb:dd.f` or `dddd:bb:dd.f`) */
export function fnInput(bdf: string, f: SyntheticFunction, extra: Partial<FunctionInput> = {}): FunctionInput {
  const a = parseBdf(bdf);
  if (!a) throw new Error(`test fixture: bad BDF ${bdf}`);
  const bytes = buildConfig(f);
  const { config, issues } = decodeConfig(bytes, { complete: true });
  return { segment: a.segment, bus: a.bus, devfn: a.devfn, config, configIssues: issues, ...extra };
}

/** shorthand builders for common parts */
export const parts = {
  hostBridge: (): SyntheticFunction => ({ classCode: 0x060000 }),
  rootPort: (secondary: number, subordinate = secondary, acs = true, multifunction = false): SyntheticFunction => ({
    headerType: 1,
    multifunction,
    pcieType: 4,
    bus: { primary: 0, secondary, subordinate },
    ...(acs ? { acs: { cap: 0x5f, ctrl: 0x1d } } : {}),
  }),
  upstream: (primary: number, secondary: number, subordinate: number): SyntheticFunction => ({ headerType: 1, pcieType: 5, bus: { primary, secondary, subordinate } }),
  downstream: (primary: number, secondary: number, acs = false): SyntheticFunction => ({
    headerType: 1,
    pcieType: 6,
    bus: { primary, secondary, subordinate: secondary },
    ...(acs ? { acs: { cap: 0x5f, ctrl: 0x1d } } : {}),
  }),
  pcieToPci: (primary: number, secondary: number): SyntheticFunction => ({ headerType: 1, pcieType: 7, bus: { primary, secondary, subordinate: secondary } }),
  pciBridge: (primary: number, secondary: number, vendor = 0x1234, device = 0x0001): SyntheticFunction => ({
    headerType: 1,
    vendor,
    device,
    bus: { primary, secondary, subordinate: secondary },
  }),
  endpoint: (multifunction = false, acs?: { cap: number; ctrl: number }): SyntheticFunction => ({ pcieType: 0, multifunction, ...(acs ? { acs } : {}) }),
  conventional: (multifunction = false): SyntheticFunction => ({ multifunction }),
};

export function topo(inputs: FunctionInput[], opts?: BuildOptions): Topology {
  return buildTopology(inputs, opts);
}

/** a captured-style snapshot around synthetic functions (ACS as given, no ACPI tables) */
export function snapshotOf(
  inputs: FunctionInput[],
  extra: { cmdline?: string; osrelease?: string; acpi?: Snapshot["acpi"]; source?: Snapshot["source"] } = {},
): Snapshot {
  return {
    source: extra.source ?? "sysfs",
    topology: buildTopology(inputs),
    kernelGroups: undefined,
    cmdline: extra.cmdline,
    osrelease: extra.osrelease ?? "6.1.0",
    acpi: extra.acpi ?? {},
    notes: [],
  };
}
