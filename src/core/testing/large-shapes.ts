/**
 * Large synthetic machines for the bench and the engine's property tests.
 * Config images are decoded once per distinct function and shared, so a
 * million functions stay cheap to describe.
 */
import { decodeConfig } from "../config/decode.js";
import type { DecodedConfig } from "../config/decode.js";
import { buildConfig } from "../design/synth-config.js";
import type { SyntheticFunction } from "../design/synth-config.js";
import { devfnOf } from "../topology/address.js";
import type { FunctionInput } from "../topology/build.js";

const ACS_ON = { cap: 0x5f, ctrl: 0x1d };
/** SV and UF on, RR and CR off: present but not isolating */
const ACS_PARTIAL = { cap: 0x5f, ctrl: 0x11 };

/** one decoded config per distinct synthetic function */
export class ConfigCache {
  readonly #cache = new Map<string, DecodedConfig>();
  get(f: SyntheticFunction): DecodedConfig {
    const key = JSON.stringify(f);
    let c = this.#cache.get(key);
    if (!c) {
      const decoded = decodeConfig(buildConfig(f), { complete: true }).config;
      if (!decoded) throw new Error(`large shape: config for ${key} does not decode`);
      c = decoded;
      this.#cache.set(key, c);
    }
    return c;
  }
}

export interface AriShape {
  readonly segment?: number;
  /** root ports on bus 0 (devfn 1 upward, after the host bridge at 00.0); at most 255 */
  readonly rootPorts: number;
  /** functions of the one ARI endpoint below each port; at most 256 */
  readonly functions: number;
  /**
   * "mixed": a quarter of the ports and a third of the endpoints without
   * isolating ACS, so groups merge across ports and functions;
   * "isolated": every port and function ACS-isolated (one group per function)
   */
  readonly acs?: "mixed" | "isolated";
  /** per port (cycled): ACS on the port, and on the endpoint's functions; replaces `acs` */
  readonly pattern?: readonly { readonly port: boolean; readonly functions: "on" | "partial" | "none" }[];
}

/** functions an AriShape has: host bridge, ports, endpoint functions */
export const ariShapeSize = (s: AriShape): number => 1 + s.rootPorts + s.rootPorts * s.functions;

/**
 * One host bridge, root ports with ARI forwarding on, each with one
 * endpoint of up to 256 ARI functions. 255 ports × 256 functions fill a
 * whole segment: 65,536 functions.
 */
export function ariMachine(shape: AriShape, cache = new ConfigCache()): FunctionInput[] {
  const segment = shape.segment ?? 0;
  const mixed = (shape.acs ?? "mixed") === "mixed";
  // in BDF order, as a source lists them: bus 0 (host bridge, ports), then each port's bus
  const out: FunctionInput[] = [{ segment, bus: 0, devfn: 0, config: cache.get({ classCode: 0x060000, multifunction: true }) }];
  for (let i = 0; i < shape.rootPorts; i++) {
    const bus = i + 1;
    const pat = shape.pattern?.length ? shape.pattern[i % shape.pattern.length] : undefined;
    const portAcs = pat ? pat.port : !mixed || i % 4 !== 3;
    out.push({
      segment,
      bus: 0,
      devfn: i + 1,
      config: cache.get({ headerType: 1, pcieType: 4, ariForwarding: true, bus: { primary: 0, secondary: bus, subordinate: bus }, ...(portAcs ? { acs: ACS_ON } : {}) }),
    });
  }
  for (let i = 0; i < shape.rootPorts; i++) {
    const bus = i + 1;
    const pat = shape.pattern?.length ? shape.pattern[i % shape.pattern.length] : undefined;
    const fnAcs = pat
      ? { on: ACS_ON, partial: ACS_PARTIAL, none: undefined }[pat.functions]
      : !mixed ? ACS_ON : i % 3 === 0 ? undefined : i % 3 === 1 ? ACS_PARTIAL : ACS_ON;
    for (let fn = 0; fn < shape.functions; fn++) {
      const next = fn + 1 < shape.functions ? fn + 1 : 0;
      out.push({
        segment,
        bus,
        devfn: fn,
        config: cache.get({ pcieType: 0, multifunction: shape.functions > 1, ari: { nextFunction: next }, ...(fnAcs ? { acs: fnAcs } : {}) }),
      });
    }
  }
  return out;
}

/** whole segments of 65,536 functions each */
export function fullSegments(count: number, cache = new ConfigCache()): FunctionInput[] {
  const out: FunctionInput[] = [];
  for (let s = 0; s < count; s++) for (const f of ariMachine({ segment: s, rootPorts: 255, functions: 256 }, cache)) out.push(f);
  return out;
}

/**
 * Root ports with a switch each, downstream ports (every other one with
 * ACS), multifunction endpoints and SR-IOV PFs whose VFs the build adds.
 */
export function switchedMachine(rootPorts: number, downstreamPorts: number, cache = new ConfigCache()): FunctionInput[] {
  const inputs: FunctionInput[] = [];
  const add = (segment: number, bus: number, devfn: number, f: SyntheticFunction) => inputs.push({ segment, bus, devfn, config: cache.get(f) });
  let segment = 0;
  let bus = 1;
  for (let rp = 0; rp < rootPorts; rp++) {
    if (bus + downstreamPorts + 2 > 250) {
      segment++;
      bus = 1;
    }
    const slot = (rp % 31) + 1;
    if (rp % 31 === 0) add(segment, 0, 0, { classCode: 0x060000 });
    const usp = bus++;
    add(segment, 0, devfnOf(slot, 0), { headerType: 1, pcieType: 4, acs: ACS_ON, bus: { primary: 0, secondary: usp, subordinate: usp + downstreamPorts } });
    const inner = bus++;
    add(segment, usp, 0, { headerType: 1, pcieType: 5, bus: { primary: usp, secondary: inner, subordinate: usp + downstreamPorts } });
    for (let d = 0; d < downstreamPorts; d++) {
      const leaf = bus++;
      add(segment, inner, devfnOf(d, 0), { headerType: 1, pcieType: 6, ...(d % 2 ? { acs: ACS_ON } : {}), bus: { primary: inner, secondary: leaf, subordinate: leaf } });
      for (let fn = 0; fn < 4; fn++) {
        add(segment, leaf, fn, { pcieType: 0, multifunction: fn === 0, ...(fn === 0 ? { sriov: { totalVFs: 8, numVFs: 4, offset: 8, stride: 1, vfDevice: 0x10ed } } : {}) });
      }
    }
  }
  return inputs;
}
