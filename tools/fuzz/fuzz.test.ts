// The fuzzer's own checks, and the inputs campaigns found, replayed as regular tests.
// Runs on the built dist (npm test builds first), like npm run fuzz.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const HERE = dirname(fileURLToPath(import.meta.url));
const haveDist = existsSync(resolve(HERE, "../../dist/cli/main.js"));
const { Rng } = await import("./mutate.mjs");
const fuzz = haveDist ? await import("./targets.mjs") : undefined;

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const rng = () => new Rng(1, "test", 0);

describe.skipIf(!haveDist)("fuzz targets", () => {
  const { TARGETS, checkErrorLine, bombs, inputOf } = fuzz!;

  it("the error-line check refuses what a user must never see", () => {
    const ok = "input:3: devices[0].bdf: expected a text value, found 12; see docs/design.md";
    expect(() => checkErrorLine(ok)).not.toThrow();
    expect(() => checkErrorLine("input: offset 0x1f: binary data (a NUL byte), not a YAML text; pass a plan file")).not.toThrow();
    for (const bad of [
      "input:3: first line\ninput:4: second line; fix it",
      "input:3: the text '\u001b[2J' is wrong; fix it",
      "input:3: bidi \u202e trick; fix it",
      "input:3: nothing to do",
      "elsewhere:3: not our file; fix it",
      "input:3: " + "x".repeat(700) + "; fix it",
      "input: expected object, received null",
    ]) {
      expect(() => checkErrorLine(bad), JSON.stringify(bad.slice(0, 40))).toThrow(/error message/);
    }
  });

  it("every reader answers its first inputs of a fixed campaign with a model or one clear line", () => {
    for (const name of Object.keys(TARGETS)) {
      for (let i = 0; i < 25; i++) {
        const { bytes, rng: r } = inputOf(name, 20261207, i);
        expect(["model", "error"], `${name} #${i}`).toContain(TARGETS[name]!.check(bytes, r));
      }
    }
  });

  it("capture: every built-in bomb is read within the limits or refused with one line", () => {
    const answers = bombs.list.map((bomb) => TARGETS.capture!.check(bomb, rng()));
    // 1 GiB of zeros, a 600 MiB entry, escaping paths, a 1 MiB path, gzip in gzip: refused; 100000 empty entries: read
    expect(answers).toEqual(["error", "error", "model", "error", "error", "error", "error"]);
  });

  it("fragment: a deflate bomb, JSON nested 2,000,000 deep and oversized lists in a shared link are refused with one line", () => {
    const { fragmentBombs } = fuzz!;
    const answers = fragmentBombs.map((link) => TARGETS.fragment!.check(new TextEncoder().encode(link), rng()));
    expect(answers).toEqual(["error", "error", "error", "error"]);
  });

  it("what campaigns found: control characters, huge pastes, deep and aliased YAML", () => {
    const ivrs = new Uint8Array(48);
    ivrs.set(enc("\u001b[2J"), 0);
    ivrs[4] = 48;
    const cases: [string, Uint8Array][] = [
      // ACPI signatures and lspci class names holding control characters
      ["ivrs", ivrs],
      ["dmar", enc("\u0000\u0000\u0000\u0001")],
      ["lspci", enc("00:1c.0 PCI bridge [\r0604]: Intel Corporation Device [8086:a110]\n00:1c.1 PCI bridge [\u001b0604]: Intel\n")],
      // a dump pasted 2000 times: the warning names four starts, not 2000
      ["lspci", enc("00:1c.0 PCI bridge [0604]: Intel Corporation Device [8086:a110]\n".repeat(2000))],
      // the same device line 120000 times: refused before it is read (it took 1.6 GB)
      ["lspci", enc("000c:01:00.0 VGA compatible controller [0300]: NVIDIA Corporation Device [10de:2204] (rev a1)\n".repeat(120_000))],
      // one 8 MiB line with carriage returns only
      ["lspci", enc("30: 00 00 00 00 00 00 c8 00\r".repeat(300_000))],
      // 10^6 empty lines of YAML, nesting past the limit, a billion laughs
      ["plan", enc("\n".repeat(1_000_000))],
      ["design", enc(`devices:\n${Array.from({ length: 1000 }, (_, i) => " ".repeat(i) + "- ").join("\n")}x\n`)],
      ["design", enc(`devices: ${"[".repeat(100_000)}`)],
      ["scenario", enc(`a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\nhosts: *d\n`)],
      ["plan", enc("guests: *nowhere\n")],
    ];
    for (const [name, bytes] of cases) expect(["model", "error"], name).toContain(TARGETS[name]!.check(bytes, rng()));
  });

  const regressions = join(HERE, "regressions");
  const saved = existsSync(regressions) ? readdirSync(regressions).filter((f) => f.endsWith(".bin")) : [];
  it.each(saved)("regressions/%s", (file) => {
    const meta = JSON.parse(readFileSync(join(regressions, file.replace(/\.bin$/, ".json")), "utf8")) as { target: string };
    const bytes = new Uint8Array(readFileSync(join(regressions, file)));
    expect(["model", "error"]).toContain(TARGETS[meta.target]!.check(bytes, rng()));
  });
});
