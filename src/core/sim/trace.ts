/**
 * DMA traces for replay: a deterministic stream of requests (requester ID,
 * IOVA, read or write) in typed arrays, and the replay loop that feeds
 * them to a translator (an Iotlb, or a machine's translate). The shape is
 * a DMA engine per requester walking its buffer in payload-sized steps,
 * with a share of random accesses elsewhere in it (descriptor rings,
 * scatter-gather lists).
 */
import type { Access } from "../program/page-table.js";

export interface TraceOptions {
  /** requests in the trace */
  readonly tlps: number;
  /** the requesters and the IOVA range each one uses */
  readonly streams: readonly { readonly rid: number; readonly iova: number; readonly size: number }[];
  /** bytes per request (default 256) */
  readonly payload?: number;
  /** share of requests that jump to a random place in the stream's range (default 0.05) */
  readonly randomShare?: number;
  /** share of writes (default 0.5) */
  readonly writeShare?: number;
  /** requests one stream issues before the next takes over (default 16) */
  readonly burst?: number;
  readonly seed?: number;
}

export interface Trace {
  readonly length: number;
  readonly rid: Uint16Array;
  readonly iova: Float64Array;
  /** 1: write, 0: read */
  readonly write: Uint8Array;
}

/** mulberry32: a small, fast, seeded PRNG; returns [0, 1) */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** builds a trace; every request lies inside its stream's range and does not cross a 4 KiB boundary */
export function generateTrace(opts: TraceOptions): Trace {
  const n = opts.tlps;
  const payload = opts.payload ?? 256;
  const randomShare = opts.randomShare ?? 0.05;
  const writeShare = opts.writeShare ?? 0.5;
  const burst = opts.burst ?? 16;
  if (opts.streams.length === 0) throw new RangeError("a trace needs at least one stream");
  if (payload < 1 || payload > 4096 || 4096 % payload !== 0) throw new RangeError("payload must divide 4096");
  const rnd = prng(opts.seed ?? 1);
  const rid = new Uint16Array(n);
  const iova = new Float64Array(n);
  const write = new Uint8Array(n);
  const cursor = opts.streams.map(() => 0);
  let s = 0;
  for (let i = 0; i < n; i++) {
    if (i % burst === 0) s = Math.floor(rnd() * opts.streams.length);
    const st = opts.streams[s]!;
    const slots = Math.floor(st.size / payload);
    let at: number;
    if (rnd() < randomShare) at = Math.floor(rnd() * slots);
    else {
      at = cursor[s]!;
      cursor[s] = (at + 1) % slots;
    }
    rid[i] = st.rid;
    iova[i] = st.iova + at * payload;
    write[i] = rnd() < writeShare ? 1 : 0;
  }
  return { length: n, rid, iova, write };
}

/** anything that turns a request into a host address, −1 for a fault */
export interface Translator {
  translate(rid: number, iova: number, access: Access): number;
}

/** feeds every request to `t`; returns the faults and a checksum of the addresses (so the work is not optimised away) */
export function replayTrace(trace: Trace, t: Translator): { faults: number; checksum: number } {
  const { rid, iova, write, length } = trace;
  let faults = 0;
  let checksum = 0;
  for (let i = 0; i < length; i++) {
    const a = t.translate(rid[i]!, iova[i]!, write[i] === 1 ? "write" : "read");
    if (a < 0) faults++;
    else checksum = (checksum + (a % 0x100000000)) % 0x100000000;
  }
  return { faults, checksum };
}
