import { describe, expect, it } from "vitest";
import { BENCH_HEX, BENCH_VERBOSE } from "./bench-sample.js";
import { benchInput, benchParse } from "./bench.js";
import { snapshotFromLspci } from "./index.js";

describe("bench", () => {
  it("builds one dump of distinct functions: each copy in its own domain", () => {
    const perCopy = BENCH_VERBOSE.length + BENCH_HEX.length + 2;
    const input = benchInput(perCopy * 3);
    const r = snapshotFromLspci(input);
    expect(r.ok && [r.dumps, r.format]).toEqual([1, "mixed"]);
    if (!r.ok) return;
    const one = snapshotFromLspci(benchInput(1));
    expect(one.ok && r.snapshot.topology.functions.size).toBe(one.ok ? 3 * one.snapshot.topology.functions.size : -1);
    expect(r.warnings.map((w) => w.code)).not.toContain("dumps-disagree");
  });

  it("reports throughput over about 20 MB", () => {
    const { mbPerSecond, bytes } = benchParse();
    expect(bytes).toBeGreaterThanOrEqual(20_000_000);
    expect(mbPerSecond).toBeGreaterThan(0);
  });
});
