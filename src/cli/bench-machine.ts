/**
 * Synthetic machines for the benchmarks (`npm run bench`, `npm run bench:web`):
 * root ports with switches, multifunction endpoints and SR-IOV VFs.
 */
import { decodeConfig } from "../core/config/decode.js";
import { buildConfig } from "../core/design/synth-config.js";
import { devfnOf } from "../core/topology/address.js";
import type { FunctionInput } from "../core/topology/build.js";

/** a large machine: root ports with switches, multifunction endpoints and SR-IOV VFs */
export function bigMachine(rootPorts: number, dsps: number): FunctionInput[] {
  const inputs: FunctionInput[] = [];
  const add = (segment: number, bus: number, devfn: number, f: Parameters<typeof buildConfig>[0]) => {
    const { config } = decodeConfig(buildConfig(f), { complete: true });
    inputs.push({ segment, bus, devfn, config });
  };
  let segment = 0;
  let bus = 1;
  for (let rp = 0; rp < rootPorts; rp++) {
    if (bus + dsps + 2 > 250) {
      segment++;
      bus = 1;
    }
    const slot = (rp % 31) + 1;
    if (rp % 31 === 0) add(segment, 0, 0, { classCode: 0x060000 });
    const usp = bus++;
    add(segment, 0, devfnOf(slot, 0), { headerType: 1, pcieType: 4, acs: { cap: 0x5f, ctrl: 0x1d }, bus: { primary: 0, secondary: usp, subordinate: usp + dsps } });
    const inner = bus++;
    add(segment, usp, 0, { headerType: 1, pcieType: 5, bus: { primary: usp, secondary: inner, subordinate: usp + dsps } });
    for (let d = 0; d < dsps; d++) {
      const leaf = bus++;
      add(segment, inner, devfnOf(d, 0), { headerType: 1, pcieType: 6, ...(d % 2 ? { acs: { cap: 0x5f, ctrl: 0x1d } } : {}), bus: { primary: inner, secondary: leaf, subordinate: leaf } });
      for (let fn = 0; fn < 4; fn++) {
        add(segment, leaf, fn, { pcieType: 0, multifunction: fn === 0, ...(fn === 0 ? { sriov: { totalVFs: 8, numVFs: 4, offset: 8, stride: 1, vfDevice: 0x10ed } } : {}) });
      }
    }
  }
  return inputs;
}

