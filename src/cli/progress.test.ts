import { describe, expect, it } from "vitest";
import { progress, progressBar } from "./progress.js";

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { isTTY, columns: 60, write: (t: string) => writes.push(t), writes };
}

describe("progress bar", () => {
  it("stays silent on something that is not a terminal, however long the work", () => {
    const s = fakeStream(false);
    let t = 0;
    const p = progress({ label: "reading", total: 100, stream: s, now: () => t });
    for (t = 0; t < 10_000; t += 50) p.update(t / 100);
    p.end();
    expect(s.writes).toEqual([]);
  });

  it("stays silent on a terminal when the work ends within the delay", () => {
    const s = fakeStream(true);
    let t = 0;
    const p = progress({ label: "reading", total: 100, stream: s, now: () => t });
    for (t = 0; t < 900; t += 50) p.update(t / 10);
    p.end();
    expect(s.writes).toEqual([]);
  });

  it("draws after the delay, at most ten times a second, and erases itself at the end", () => {
    const s = fakeStream(true);
    let t = 0;
    const p = progress({ label: "reading x.tar.gz", total: 300e6, unit: "bytes", stream: s, now: () => t });
    for (t = 0; t <= 2000; t += 10) p.update((t / 2000) * 150e6);
    expect(s.writes.length).toBeGreaterThanOrEqual(9);
    expect(s.writes.length).toBeLessThanOrEqual(11);
    const last = s.writes.at(-1)!;
    expect(last).toMatch(/^\rreading x\.tar\.gz \[#+ +\] 50% 150\.0 MB \/ 300\.0 MB\x1b\[K$/);
    expect(last.replace("\x1b[K", "").length - 1).toBeLessThanOrEqual(59);
    p.end();
    expect(s.writes.at(-1)).toBe("\r\x1b[K");
    p.update(1);
    p.end();
    expect(s.writes.at(-1)).toBe("\r\x1b[K");
  });

  it("shows a count without a bar when the total is unknown", () => {
    const s = fakeStream(true);
    let t = 2000;
    const p = progress({ label: "ingesting", stream: s, now: () => t, delayMs: 0 });
    t += 500;
    p.update(12345);
    expect(s.writes).toEqual(["\ringesting 12,345\x1b[K"]);
  });
});

describe("progressBar (fleet ingest)", () => {
  it("draws nothing without a stream or without work", () => {
    const s = fakeStream(true);
    for (const bar of [progressBar("ingest", 10, null), progressBar("ingest", 0, s)]) {
      bar.update(5);
      bar.done();
    }
    expect(s.writes).toEqual([]);
  });
});
