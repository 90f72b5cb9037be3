/**
 * Text-parse throughput: ~20 MB of real lspci output (verbose and hex, see
 * bench-sample.ts), each copy moved to its own PCI domain so every function
 * is distinct and the whole input is one dump, read by snapshotFromLspci (topology build included).
 */
import { BENCH_HEX, BENCH_VERBOSE } from "./bench-sample.js";
import { snapshotFromLspci } from "./index.js";

/** the core's lib has no DOM or Node types; both runtimes provide this */
const clock: { now(): number } = (globalThis as { performance?: { now(): number } }).performance ?? Date;

const TARGET_BYTES = 20_000_000;
const RUNS = 5;

const hex4 = (n: number): string => n.toString(16).padStart(4, "0");

/** concatenated copies of the samples, copy k in domain k */
export function benchInput(targetBytes = TARGET_BYTES): string {
  const parts: string[] = [];
  let bytes = 0;
  for (let k = 0; bytes < targetBytes && k < 0x7fff; k++) {
    const verbose = BENCH_VERBOSE.replace(/^([0-9a-f]{2}:[0-9a-f]{2}\.[0-7] )/gm, `${hex4(2 * k)}:$1`);
    const hex = BENCH_HEX.replace(/^0000:/gm, `${hex4(2 * k + 1)}:`);
    parts.push(verbose, "\n", hex, "\n");
    bytes += verbose.length + hex.length + 2;
  }
  return parts.join("");
}

/**
 * Parses the generated input RUNS times after a warm-up run and reports the
 * best run: MB are 10^6 bytes (the input is ASCII, so characters = bytes).
 * No forced GC between runs: a heap shrunk by `gc()` makes the next run slower.
 */
export function benchParse(): { mbPerSecond: number; bytes: number } {
  const input = benchInput();
  const warm = snapshotFromLspci(input);
  if (!warm.ok) throw new Error(`bench input did not parse: line ${warm.line}: ${warm.reason}`);
  let best = Infinity;
  for (let i = 0; i < RUNS; i++) {
    const start = clock.now();
    const r = snapshotFromLspci(input);
    const ms = clock.now() - start;
    if (!r.ok) throw new Error(`bench input did not parse: line ${r.line}: ${r.reason}`);
    best = Math.min(best, ms);
  }
  return { mbPerSecond: input.length / 1e6 / (best / 1000), bytes: input.length };
}
