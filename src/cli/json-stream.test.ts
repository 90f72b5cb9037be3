import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { writeJson } from "./json-stream.js";

async function streamed(value: unknown): Promise<{ text: string; pieces: number }> {
  const out: string[] = [];
  await writeJson(value, (c) => {
    out.push(c);
  });
  return { text: out.join(""), pieces: out.length };
}

describe("streamed --json", () => {
  it("gives JSON.stringify(value, null, 2)'s bytes on random values, large ones included", async () => {
    const json = fc.letrec<{ v: unknown }>((tie) => ({
      v: fc.oneof(
        { depthSize: "small" },
        fc.constantFrom(null, true, false, 0, -1.5, "", "a\nb\"c\u2028", undefined),
        fc.string(),
        fc.double(),
        fc.array(tie("v"), { maxLength: 40 }),
        fc.dictionary(fc.string(), tie("v"), { maxKeys: 30 }),
      ),
    })).v;
    await fc.assert(
      fc.asyncProperty(json, async (v) => {
        fc.pre(v !== undefined);
        expect((await streamed(v)).text).toBe(`${JSON.stringify(v, null, 2)}\n`);
      }),
      { numRuns: 300, seed: 13 },
    );
  });

  it("writes a large output in many pieces, each bounded", async () => {
    const value = { schema: "x", functions: Array.from({ length: 20_000 }, (_, i) => ({ bdf: `0000:${i}`, acs: { cap: i, ctrl: [1, 2, undefined] }, gone: undefined, f: () => 1 })) };
    const out: string[] = [];
    await writeJson(value, (c) => {
      out.push(c);
    });
    expect(out.join("")).toBe(`${JSON.stringify(value, null, 2)}\n`);
    expect(out.length).toBeGreaterThan(20);
    expect(Math.max(...out.map((c) => c.length))).toBeLessThan(80 * 1024);
  });

  it("waits for the sink between pieces", async () => {
    const events: string[] = [];
    await writeJson(Array.from({ length: 30_000 }, (_, i) => ({ i })), async (c) => {
      events.push(`start ${c.length > 0}`);
      await new Promise((r) => setTimeout(r, 0));
      events.push("end");
    });
    for (let i = 0; i < events.length; i += 2) expect(events.slice(i, i + 2)).toEqual(["start true", "end"]);
  });
});
