import { readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { aliases } from "./commands/aliases.js";
import { groups } from "./commands/groups.js";
import { show } from "./commands/show.js";
import { tree } from "./commands/tree.js";
import { BUNDLED_EXAMPLE } from "./load.js";
import type { Output } from "./output.js";

const SHARED = path.resolve("..", "shared", "oracle-cases");
const oracle = (() => {
  try {
    return readdirSync(SHARED).filter((f) => f.endsWith(".tar.gz")).slice(0, 12).map((f) => path.join(SHARED, f));
  } catch {
    return [];
  }
})();

/** what a terminal receives: `out` adds a newline, `write` does not */
function terminal(streaming: boolean): Output & { bytes: () => string; pieces: () => number } {
  const got: string[] = [];
  let pieces = 0;
  return {
    out: (s) => void got.push(s.endsWith("\n") ? s : `${s}\n`),
    err: () => undefined,
    color: false,
    ...(streaming && {
      write: (s: string) => {
        pieces++;
        got.push(s);
      },
    }),
    bytes: () => got.join(""),
    pieces: () => pieces,
  };
}

const COMMANDS = {
  groups: (source: string, json: boolean, io: Output) => groups({ source, json, verbose: true }, io),
  show: (source: string, json: boolean, io: Output) => show({ source, json }, io),
  tree: (source: string, json: boolean, io: Output) => tree({ source, json }, io),
  aliases: (source: string, json: boolean, io: Output) => aliases({ source, json }, io),
};

describe("streamed output", () => {
  for (const [name, run] of Object.entries(COMMANDS)) {
    for (const json of [true, false]) {
      it(`${name}${json ? " --json" : ""}: the same bytes streamed as in one piece`, async () => {
        for (const source of [BUNDLED_EXAMPLE, ...oracle]) {
          const whole = terminal(false);
          const streamed = terminal(true);
          expect(await run(source, json, whole)).toBe(await run(source, json, streamed));
          expect(streamed.bytes()).toBe(whole.bytes());
          expect(whole.bytes().length).toBeGreaterThan(100);
        }
      });
    }
  }

  it("groups --json streams (more than one piece) on a large machine", async () => {
    // a design with many functions keeps the test self-contained
    const { writeFileSync, mkdtempSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(path.join(tmpdir(), "atlas-stream-"));
    try {
      const lines = ["devices:", '  - { bdf: "00:00.0", type: host-bridge }'];
      for (let i = 1; i <= 120; i++) {
        lines.push(`  - { bdf: "00:${(i >> 3).toString(16).padStart(2, "0")}.${i & 7}", type: root-port, bus: ${i}, acs: ${i % 2 === 0} }`);
        for (let fn = 0; fn < 8; fn++) lines.push(`  - { bdf: "${i.toString(16).padStart(2, "0")}:00.${fn}", type: endpoint, multifunction: true }`);
      }
      const file = path.join(dir, "big.yaml");
      writeFileSync(file, lines.join("\n"));
      const whole = terminal(false);
      const streamed = terminal(true);
      await groups({ source: file, json: true }, whole);
      await groups({ source: file, json: true }, streamed);
      expect(streamed.bytes()).toBe(whole.bytes());
      expect(streamed.pieces()).toBeGreaterThan(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
