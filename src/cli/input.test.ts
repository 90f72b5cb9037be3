/**
 * Inputs that are not plain files: a pipe or FIFO (`groups <(ssh host lspci
 * -vvnn)`), standard input (`-`), and endless devices. They read as a file
 * does, and an endless or binary stream is refused as soon as it shows it,
 * not after it has filled memory.
 */
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InputError } from "./errors.js";
import { BUNDLED_EXAMPLE, loadSource, readTextInput } from "./load.js";
import { main } from "./main.js";
import { recorder } from "./testing.js";

const LSPCI = "src/core/lspci/fixtures/corpus/15-ryzen-zen1-a320-chipset-kernel4.txt";
const CLI = path.resolve("bin/iommu-atlas.js");

let tmp: string;
let fifoCount = 0;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "iommu-atlas-input-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** a FIFO that a shell command writes into once a reader opens it */
function fifo(writer: string): { file: string; child: ChildProcess } {
  const file = path.join(tmp, `fifo-${++fifoCount}`);
  execFileSync("mkfifo", [file]);
  const child = spawn("sh", ["-c", `${writer} > '${file}'`], { stdio: "ignore" });
  return { file, child };
}

async function rejection(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (err) {
    expect(err).toBeInstanceOf(Error);
    return (err as Error).message;
  }
  throw new Error("expected the input to be refused");
}

describe("a pipe reads as the file would", () => {
  it("lspci text through a FIFO", async () => {
    const direct = await loadSource(LSPCI);
    const { file, child } = fifo(`cat '${path.resolve(LSPCI)}'`);
    const piped = await loadSource(file);
    child.kill();
    expect([...piped.snapshot.topology.functions.keys()]).toEqual([...direct.snapshot.topology.functions.keys()]);
    expect(piped.snapshot.topology.functions.size).toBeGreaterThan(10);
  });

  it("a capture archive through a FIFO, its bytes kept for serve", async () => {
    const { file, child } = fifo(`cat '${BUNDLED_EXAMPLE}'`);
    const piped = await loadSource(file, true);
    child.kill();
    const direct = await loadSource(BUNDLED_EXAMPLE);
    expect([...piped.snapshot.topology.functions.keys()]).toEqual([...direct.snapshot.topology.functions.keys()]);
    expect(Buffer.compare(Buffer.from(piped.bytes!), readFileSync(BUNDLED_EXAMPLE))).toBe(0);
  });
});

describe("endless and binary streams are refused at once", () => {
  it("/dev/zero as a source, a plan and the fault lines", async () => {
    expect(await rejection(() => loadSource("/dev/zero"))).toMatch(/^\/dev\/zero: offset 0x0: binary data \(a NUL byte\)/);
    expect(await rejection(() => readTextInput("/dev/zero", "pass a plan file"))).toBe("/dev/zero: offset 0x0: binary data (a NUL byte), not a YAML text; pass a plan file");
  });

  it("an endless text stream stops at the size limit with its own message", async () => {
    const { file, child } = fifo("yes 'lspci line'");
    const message = await rejection(() => loadSource(file));
    child.kill();
    expect(message).toBe(`${file}:1: larger than 64 MiB; lspci output of a whole machine is well under 1 MiB, is this the right file?`);
    const plan = fifo("yes 'vms:'");
    const err = await rejection(() => readTextInput(plan.file, "pass a plan file"));
    plan.child.kill();
    expect(err).toBe(`${plan.file}:1: larger than 1 MiB; a design, plan or scenario file is far smaller, is this the right file?`);
  });

  it("the same error class as any other bad input: one line, exit 2", async () => {
    const io = recorder();
    expect(await main(["groups", "/dev/urandom"], io)).toBe(2);
    expect(io.errors().split("\n")).toHaveLength(1);
    expect(io.errors()).toMatch(/^iommu-atlas: \/dev\/urandom: offset 0x[0-9a-f]+: binary data/);
    await expect(readTextInput(path.join(tmp, "none.yaml"), "pass a plan file")).rejects.toThrow(InputError);
  });
});

describe("- reads standard input (the built CLI)", () => {
  const run = (args: string[], input: Buffer | string): { code: number | null; out: string; err: string } => {
    const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  it("lspci text and a capture archive on stdin give what the file gives, named stdin", () => {
    for (const file of [LSPCI, BUNDLED_EXAMPLE]) {
      const fromFile = run(["groups", "--json", file], "");
      const fromStdin = run(["groups", "--json", "-"], readFileSync(file));
      expect(fromStdin.code, file).toBe(0);
      type Out = { source: { label: string } };
      const a = JSON.parse(fromStdin.out) as Out;
      const b = JSON.parse(fromFile.out) as Out;
      expect(a.source.label).toBe("stdin");
      expect(b.source.label).toBe(file);
      expect({ ...a, source: { ...a.source, label: "" } }).toEqual({ ...b, source: { ...b.source, label: "" } });
    }
  });

  it("a bad stdin and two inputs both on stdin are one line and exit 2", () => {
    const binary = run(["groups", "-"], Buffer.from([1, 2, 0, 3]));
    expect(binary.code).toBe(2);
    expect(binary.err).toBe("iommu-atlas: stdin: offset 0x2: binary data (a NUL byte), not lspci output, a capture archive or a design file; pass the output of 'sudo lspci -vvnn', a capture made by 'iommu-atlas capture', or a design YAML with a devices: list\n");
    const both = run(["check", "-", "-"], "vms: []\n");
    expect(both.code).toBe(2);
    expect(both.err.trimEnd().split("\n")).toHaveLength(1);
    expect(both.err).toMatch(/cannot both be read from stdin/);
    const faults = run(["fault", "-", BUNDLED_EXAMPLE], Buffer.alloc(100, 0));
    expect(faults.code).toBe(2);
    expect(faults.err).toMatch(/^iommu-atlas: stdin: offset 0x0: binary data \(a NUL byte\)/);
  });
});
