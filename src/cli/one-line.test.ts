/**
 * One clear line, always: what a new user tried first — random bytes to
 * `check`, a binary file to `groups`, an empty scenario — each gives exactly
 * one line on stderr, with the file and a place, what is wrong and what to
 * do, and exit 2.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { escapeText } from "../core/excerpt.js";
import { main } from "./main.js";
import { recorder } from "./testing.js";

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "iommu-atlas-one-line-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function scratch(name: string, data: string | Uint8Array): Promise<string> {
  const file = path.join(tmp, name);
  await writeFile(file, data);
  return file;
}

/** runs the CLI; asserts exit 2 and one printable stderr line, and returns it */
async function refused(args: string[]): Promise<string> {
  const io = recorder();
  const code = await main(args, io);
  const lines = io.errors().split("\n");
  expect(code).toBe(2);
  expect(lines).toHaveLength(1);
  expect(escapeText(lines[0]!)).toBe(lines[0]);
  expect(lines[0]!.length).toBeLessThan(400);
  return lines[0]!;
}

/** random bytes from a fixed seed */
function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe("one clear line for rejected input", () => {
  it("random bytes given to check: one line with the offset of the binary data, not a line per YAML error", async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const plan = await scratch(`random-${seed}.bin`, noise(3000, seed));
      const line = await refused(["check", plan]);
      expect(line).toMatch(new RegExp(`^iommu-atlas: ${plan.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: offset 0x[0-9a-f]+: binary data .*; pass a plan file`));
    }
  });

  it("random text given to check: the first YAML problem plus a count", async () => {
    const plan = await scratch("broken.yaml", "a: [\n b: {\n c: d: e\n");
    const line = await refused(["check", plan]);
    expect(line).toMatch(/broken\.yaml:\d+: .* \(and \d+ more problems?\); see docs\/plan\.md$/);
  });

  it("a binary file given to groups: named by what it is, no byte of it echoed", async () => {
    const elf = await scratch("program", readFileSync(process.execPath).subarray(0, 64 * 1024));
    const line = await refused(["groups", elf]);
    expect(line).toMatch(/program: offset 0x0: an ELF executable, not lspci output, a capture archive or a design file; pass the output of 'sudo lspci -vvnn'/);
    const junk = await scratch("junk.bin", noise(5000, 9));
    expect(await refused(["groups", junk])).toMatch(/junk\.bin: offset 0x[0-9a-f]+: binary data/);
  });

  it("an empty scenario: said in words, not zod's", async () => {
    const scenario = await scratch("empty.yaml", "");
    const line = await refused(["simulate", scenario]);
    expect(line).toBe(`iommu-atlas: ${scenario}:1: the file is empty, expected a map; see docs/scenario.md`);
    expect(line).not.toMatch(/received null|Invalid input/);
  });

  it("text a terminal would obey is escaped and cut", async () => {
    const source = await scratch("paste.txt", `\u001b[2J\u001b]0;pwned\u0007 hello \u202e${"x".repeat(500)}\n`);
    const line = await refused(["groups", source]);
    expect(line).toContain("\\x1b[2J");
    expect(line).toContain("\\u202e");
    expect(line).toMatch(/…'\); pass the output/);
  });

  it("a YAML file past a limit says which limit", async () => {
    const deep = await scratch("deep.yaml", `guests: ${"[".repeat(200)}\n`);
    expect(await refused(["check", deep])).toMatch(/deep\.yaml:1: nested 65 levels deep; at most 64 levels are read$/);
    const laughs = await scratch("laughs.yaml", `a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nguests: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n`);
    expect(await refused(["check", laughs])).toMatch(/laughs\.yaml:1: anchors and aliases \(\*name\) expand past 100 copies/);
  });

  it("a kernel from before IOMMU groups is refused, not predicted", async () => {
    expect(await refused(["groups", "--kernel", "2.6.32", "examples/captures/pcie-pci-bridge-alias.sysfs.tar.gz"])).toBe(
      "iommu-atlas: --kernel '2.6.32': Linux 2.6.32 has no IOMMU groups (they came with 3.5); pass 3.5 or later",
    );
    expect(await refused(["fleet", "whatif", "--kernel", "3.4", "--db", path.join(tmp, "unused-db")])).toMatch(/Linux 3\.4 has no IOMMU groups/);
  });
});
