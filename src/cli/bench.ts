/**
 * `npm run bench`: speed figures on this machine. Wall-clock timings of
 * whole operations, best of several rounds; never used as a test.
 */
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { benchParse } from "../core/lspci/bench.js";
import { decodeConfig } from "../core/config/decode.js";
import { predict } from "../core/iommu/predict.js";
import { snapshotFromSysfs } from "../core/sources/from-sysfs.js";
import { buildTopology } from "../core/topology/build.js";
import { bigMachine } from "./bench-machine.js";
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
