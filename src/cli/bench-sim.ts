/**
 * The simulator's speed figure for `npm run bench`: a generated trace of
 * one million DMA requests from eight requesters, replayed through an
 * IOTLB in front of a VT-d machine (4-level tables, 4 KiB pages), and the
 * same trace without the IOTLB for comparison. Best of several rounds; the
 * IOTLB starts cold in each.
 */
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { snapshotFromDesign } from "../core/design/from-design.js";
import { predict } from "../core/iommu/predict.js";
import { Translation } from "../core/program/faults.js";
import { machineFromPrediction } from "../core/program/machine.js";
import type { IommuMachine } from "../core/program/machine.js";
import type { Access } from "../core/program/page-table.js";
import { Iotlb } from "../core/sim/iotlb.js";
import { generateTrace, replayTrace } from "../core/sim/trace.js";
import type { Trace } from "../core/sim/trace.js";

const REQUESTERS = 8;
const BUFFER = 64 * 2 ** 20;
const TLPS = 1_000_000;
const ROUNDS = 5;

export interface SimBenchResult {
  /** translations per second through the IOTLB (best round) */
  readonly withIotlb: number;
  readonly withoutIotlb: number;
  readonly hitRate: number;
}

/** eight root ports with one endpoint each, every endpoint in its own domain with a 64 MiB buffer */
function benchMachine(): { machine: IommuMachine; streams: { rid: number; iova: number; size: number }[] } {
  const lines = ["devices:", '  - { bdf: "00:00.0", type: host-bridge }'];
  for (let i = 0; i < REQUESTERS; i++) {
    const bus = i + 1;
    lines.push(`  - { bdf: "00:${(i + 1).toString(16).padStart(2, "0")}.0", type: root-port, bus: ${bus}, acs: true }`);
    lines.push(`  - { bdf: "${bus.toString(16).padStart(2, "0")}:00.0", type: endpoint }`);
  }
  const design = snapshotFromDesign(lines.join("\n"));
  if (!design.ok) throw new Error(`bench design: ${design.problems[0]!.message}`);
  const machine = machineFromPrediction(predict(design.snapshot, { kernel: { major: 6, minor: 8 } }));
  const streams: { rid: number; iova: number; size: number }[] = [];
  for (let i = 0; i < REQUESTERS; i++) {
    const bus = i + 1;
    const domain = machine.createDomain(`dev${i}`);
    const iova = 0x1_0000_0000 + i * 0x1000_0000;
    const err = domain.map(iova, 0x2_0000_0000 + i * BUFFER, BUFFER, 3, { superpages: false });
    if (err) throw new Error(`bench mapping: ${err.code}`);
    machine.attach(`0000:${bus.toString(16).padStart(2, "0")}:00.0`, domain);
    streams.push({ rid: bus << 8, iova, size: BUFFER });
  }
  return { machine, streams };
}

function time(trace: Trace, t: { translate(rid: number, iova: number, access: Access): number }, before?: () => void): number {
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    before?.();
    const t0 = performance.now();
    const { faults } = replayTrace(trace, t);
    const ms = performance.now() - t0;
    if (faults !== 0) throw new Error(`bench trace faulted ${faults} times; the trace must stay inside the mappings`);
    best = Math.min(best, ms);
  }
  return (trace.length / best) * 1000;
}

export function runSimBench(log: (line: string) => void = console.log): SimBenchResult {
  const { machine, streams } = benchMachine();
  const trace = generateTrace({ tlps: TLPS, streams, seed: 0x5eed });
  const tlb = new Iotlb(machine, { entries: 512 });
  replayTrace(trace, tlb); // warm up the JIT
  const withIotlb = time(trace, tlb, () => {
    tlb.invalidate();
    tlb.resetStats();
  });
  const hitRate = tlb.hits / (tlb.hits + tlb.misses);
  const out = new Translation();
  const raw = { translate: (rid: number, iova: number, access: Access): number => {
    const o = machine.translate(rid, iova, access, out);
    return o.ok ? o.address : -1;
  } };
  replayTrace(trace, raw);
  const withoutIotlb = time(trace, raw);
  const m = (n: number): string => `${(n / 1e6).toFixed(1)} M/s`;
  log(`DMA trace replay (${TLPS.toLocaleString("en")} TLPs, ${REQUESTERS} requesters, VT-d 4-level, 512-entry IOTLB): ${m(withIotlb)} (hit rate ${(hitRate * 100).toFixed(1)}%); without IOTLB: ${m(withoutIotlb)}`);
  return { withIotlb, withoutIotlb, hitRate };
}

if (process.argv[1] !== undefined && process.argv[1].endsWith("bench-sim.js") && import.meta.url === pathToFileURL(process.argv[1]).href) runSimBench();
