/**
 * `npm run bench`: speed figures on this machine. Wall-clock timings of
 * whole operations, best of several rounds; never used as a test.
 */
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { buildConfig } from "../core/design/synth-config.js";
import { benchParse } from "../core/lspci/bench.js";
import { decodeConfig } from "../core/config/decode.js";
import { predict } from "../core/iommu/predict.js";
import { snapshotFromSysfs } from "../core/sources/from-sysfs.js";
import { devfnOf } from "../core/topology/address.js";
import { buildTopology } from "../core/topology/build.js";
import type { FunctionInput } from "../core/topology/build.js";
import { runSimBench } from "./bench-sim.js";
import { BUNDLED_EXAMPLE } from "./load.js";
import { decodeArchive } from "./sysfs/archive.js";

function best<T>(rounds: number, fn: () => T): { ms: number; value: T } {
  let ms = Infinity;
  let value!: T;
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    value = fn();
    ms = Math.min(ms, performance.now() - t);
  }
  return { ms, value };
}

/** a large machine: root ports with switches, multifunction endpoints and SR-IOV VFs */
function bigMachine(rootPorts: number, dsps: number): FunctionInput[] {
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

export function runBench(log: (line: string) => void = console.log): void {
  log(`iommu-atlas bench on Node ${process.version} (${process.arch})`);

  const archive = new Uint8Array(readFileSync(BUNDLED_EXAMPLE));
  const load = best(50, () => snapshotFromSysfs(decodeArchive(archive, "example")));
  log(`capture read + decode (10 functions):      ${load.ms.toFixed(2)} ms`);

  const inputs = bigMachine(120, 12);
  const topo = best(5, () => buildTopology(inputs));
  const n = topo.value.functions.size;
  log(`topology build (${n} functions incl. predicted VFs): ${topo.ms.toFixed(1)} ms (${((n / topo.ms) * 1000).toFixed(0)} functions/s)`);
  const snapshot = { source: "sysfs" as const, topology: topo.value, kernelGroups: undefined, cmdline: undefined, osrelease: "6.1.0", acpi: {}, notes: [] };
  const groups = best(5, () => predict(snapshot));
  log(`group prediction (${n} functions, ${groups.value.groups.groups.length} groups): ${groups.ms.toFixed(1)} ms (${((n / groups.ms) * 1000).toFixed(0)} functions/s)`);

  const lspci = benchParse();
  log(`lspci text parse (${(lspci.bytes / 1e6).toFixed(1)} MB): ${lspci.mbPerSecond.toFixed(0)} MB/s`);

  runSimBench(log);
}

runBench();
