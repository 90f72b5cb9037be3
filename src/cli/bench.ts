/**
 * `npm run bench`: the speed goals on this machine, each with its measured
 * figure, its ratio and whether it holds; wall-clock medians of several
 * runs (the machine may be shared), never used as a test. Bundled with the
 * literal kernel-order reference the engine is compared against.
 *
 * `--million` (internal): the child process that builds and predicts a
 * million functions and reports its time and peak RSS.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { benchParse } from "../core/lspci/bench.js";
import { predict } from "../core/iommu/predict.js";
import type { Prediction } from "../core/iommu/predict.js";
import type { Snapshot } from "../core/sources/snapshot.js";
import { snapshotFromSysfs } from "../core/sources/from-sysfs.js";
import { ariMachine, ariShapeSize, fullSegments, switchedMachine } from "../core/testing/large-shapes.js";
import type { AriShape } from "../core/testing/large-shapes.js";
import { referenceGroups } from "../core/testing/reference-groups.js";
import { buildTopology } from "../core/topology/build.js";
import type { FunctionInput } from "../core/topology/build.js";
import { captureSize, writeSyntheticCapture } from "./bench-capture.js";
import { runSimBench } from "./bench-sim.js";
import { BUNDLED_EXAMPLE } from "./load.js";
import { decodeArchive } from "./sysfs/archive.js";

const BIN = fileURLToPath(new URL("../../bin/iommu-atlas.js", import.meta.url));

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function timed<T>(fn: () => T): { ms: number; value: T } {
  const t = performance.now();
  const value = fn();
  return { ms: performance.now() - t, value };
}

function medianOf<T>(runs: number, fn: () => T): { ms: number; value: T; all: number[] } {
  const all: number[] = [];
  let value!: T;
  for (let i = 0; i < runs; i++) {
    const r = timed(fn);
    all.push(r.ms);
    value = r.value;
  }
  return { ms: median(all), value, all };
}

const fmtMs = (ms: number): string => (ms >= 100 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(1)} ms`);
const n = (x: number): string => x.toLocaleString("en");

const snapshotOf = (inputs: readonly FunctionInput[]): Snapshot => ({
  source: "sysfs",
  topology: buildTopology(inputs, { kernelView: true }),
  kernelGroups: undefined,
  cmdline: undefined,
  osrelease: "6.1.0",
  acpi: {},
  notes: [],
});

interface Goal {
  readonly text: string;
  readonly holds: boolean;
}

const goals: Goal[] = [];
function goal(log: (line: string) => void, text: string, holds: boolean): void {
  goals.push({ text, holds });
  log(`  ${holds ? "HOLDS " : "MISSED"}  ${text}`);
}

function sameGroups(p: Prediction, ref: ReadonlyMap<string, number>): boolean {
  if (ref.size !== p.groups.groupOf.size) return false;
  for (const [bdf, g] of ref) if (p.groups.groupOf.get(bdf) !== g) return false;
  return true;
}

/** the engine against the literal reference at one size: engine median, reference median, same output */
function versusReference(log: (line: string) => void, shape: AriShape, engineRuns: number, refRuns: number): { engine: number; reference: number; same: boolean; functions: number } {
  const snapshot = snapshotOf(ariMachine(shape));
  const engine = medianOf(engineRuns, () => predict(snapshot));
  const p = engine.value;
  const skip = new Set(p.layout.ungrouped.keys());
  // the reference reuses the engine's ACS evaluator, verdicts already cached: an advantage to the reference
  const reference = medianOf(refRuns, () => referenceGroups(p.topology, p.props, p.acs, p.layout.passes, skip));
  const same = sameGroups(p, reference.value);
  const functions = p.topology.functions.size;
  log(
    `  ${n(functions).padStart(6)} functions: engine ${fmtMs(engine.ms)} (median of ${engineRuns}), reference ${fmtMs(reference.ms)} (median of ${refRuns}): ${(reference.ms / engine.ms).toFixed(0)}×, ${same ? "same groups" : "DIFFERENT GROUPS"}`,
  );
  return { engine: engine.ms, reference: reference.ms, same, functions };
}

/** child: build + predict a million functions over 16 segments, once, and report */
function millionChild(): void {
  let inputs: FunctionInput[] | undefined = fullSegments(16);
  const t = performance.now();
  const snapshot = snapshotOf(inputs);
  // as a source does: the inputs are dropped once the topology holds the functions
  inputs = undefined;
  const built = performance.now();
  const p = predict(snapshot);
  const done = performance.now();
  const report = {
    functions: p.topology.functions.size,
    groups: p.groups.groups.length,
    buildMs: built - t,
    predictMs: done - built,
    maxRssKiB: process.resourceUsage().maxRSS,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

/** wall time of a command, in ms */
function run(cmd: string, args: readonly string[]): number {
  const t = performance.now();
  const r = spawnSync(cmd, args, { stdio: ["ignore", "ignore", "pipe"], maxBuffer: 16 * 2 ** 20 });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`bench: ${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr?.toString().trim().split("\n")[0]}`);
  return ms;
}

/** paired runs, alternating, medians of each side */
function paired(runs: number, a: () => number, b: () => number): { a: number; b: number } {
  const as: number[] = [];
  const bs: number[] = [];
  for (let i = 0; i < runs; i++) {
    as.push(a());
    bs.push(b());
  }
  return { a: median(as), b: median(bs) };
}

function machine(log: (line: string) => void): void {
  const cpus = os.cpus();
  log(`machine: ${cpus[0]?.model.trim() ?? "unknown CPU"}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()}`);
  log(`Node ${process.version} (${process.arch}); load average at start ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
}

/** `--only=engine,million,capture,startup,parsers`: run some parts (default all) */
const SECTIONS = ["engine", "million", "capture", "startup", "parsers"] as const;
type Section = (typeof SECTIONS)[number];
function chosenSections(argv: readonly string[]): ReadonlySet<Section> {
  const only = argv.find((a) => a.startsWith("--only="))?.slice("--only=".length);
  if (!only) return new Set(SECTIONS);
  const picked = only.split(",").filter((x): x is Section => (SECTIONS as readonly string[]).includes(x));
  return new Set(picked);
}

export async function runBench(log: (line: string) => void = console.log, sections = chosenSections(process.argv)): Promise<void> {
  log("iommu-atlas bench");
  machine(log);
  if (sections.has("engine")) engineSection(log);
  if (sections.has("million")) millionSection(log);
  if (sections.has("capture") || sections.has("startup")) await captureSections(log, sections);
  if (sections.has("parsers")) parserSection(log);
  log("");
  log(`load average at end ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  log(`${goals.filter((g) => g.holds).length} of ${goals.length} goals hold`);
}

function engineSection(log: (line: string) => void): void {
  log("");
  log("group engine vs the literal kernel-order reference (src/core/testing/reference-groups.ts)");
  versusReference(log, { rootPorts: 8, functions: 124 }, 9, 5);
  versusReference(log, { rootPorts: 39, functions: 256 }, 7, 3);
  const full = versusReference(log, { rootPorts: 255, functions: 256 }, 7, 1);
  goal(log, `65,536-function segment grouped in-process (predict): ${fmtMs(full.engine)} ≤ 100 ms`, full.engine <= 100 && full.functions === 65_536);
  goal(log, `65,536 functions: ${(full.reference / full.engine).toFixed(0)}× faster than the reference ≥ 50×, same groups`, full.reference / full.engine >= 50 && full.same);

  const sw = switchedMachine(120, 12);
  const swBuild = medianOf(5, () => buildTopology(sw));
  const swSnap: Snapshot = { ...snapshotOf([]), topology: swBuild.value };
  const swPredict = medianOf(5, () => predict(swSnap));
  const swN = swBuild.value.functions.size;
  log(`  switches and SR-IOV (${n(swN)} functions incl. predicted VFs): build ${fmtMs(swBuild.ms)}, predict ${fmtMs(swPredict.ms)}`);
}

function millionSection(log: (line: string) => void): void {
  log("");
  log("one million functions (16 segments of 65,536), build + predict in a child process");
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--million"], { encoding: "utf8", maxBuffer: 2 ** 20 });
  if (child.status === 0) {
    const r = JSON.parse(child.stdout) as { functions: number; groups: number; buildMs: number; predictMs: number; maxRssKiB: number };
    const total = r.buildMs + r.predictMs;
    const rssMiB = r.maxRssKiB / 1024;
    log(`  ${n(r.functions)} functions, ${n(r.groups)} groups: build ${fmtMs(r.buildMs)} + predict ${fmtMs(r.predictMs)}; peak RSS ${rssMiB.toFixed(0)} MiB`);
    goal(log, `1M functions build + predict: ${fmtMs(total)} ≤ 2000 ms (ratio ${(total / 2000).toFixed(2)})`, total <= 2000 && r.functions >= 1_000_000);
    goal(log, `1M functions peak RSS: ${rssMiB.toFixed(0)} MiB ≤ 1024 MiB (ratio ${(rssMiB / 1024).toFixed(2)})`, rssMiB <= 1024);
  } else {
    goal(log, `1M functions: the child failed (${child.status ?? child.signal}): ${child.stderr.trim().split("\n").at(-1)}`, false);
  }
}

async function captureSections(log: (line: string) => void, sections: ReadonlySet<Section>): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "iommu-atlas-bench-"));
  try {
    if (sections.has("capture")) await captureSection(log, dir);
    if (sections.has("startup")) await startupSection(log, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function captureSection(log: (line: string) => void, dir: string): Promise<void> {
  log("");
  const bigShape = { rootPorts: 248, functions: 256 };
  const big = path.join(dir, "big.sysfs.tar.gz");
  const t0 = performance.now();
  await writeSyntheticCapture(big, bigShape);
  log(`capture end to end: ${n(captureSize(bigShape))} functions, 4 KiB config each, ${(statSync(big).size / 1e6).toFixed(1)} MB gzip (written in ${fmtMs(performance.now() - t0)})`);
  const e2e = paired(3, () => run("sh", ["-c", `gzip -dc '${big}' | wc -c`]), () => run(process.execPath, [BIN, "groups", big]));
  goal(log, `groups on the ${n(captureSize(bigShape))}-function capture: ${fmtMs(e2e.b)} vs gzip -dc | wc -c ${fmtMs(e2e.a)}: ${(e2e.b / e2e.a).toFixed(2)}× ≤ 4×`, e2e.b / e2e.a <= 4);
}

async function startupSection(log: (line: string) => void, dir: string): Promise<void> {
  log("");
  const smallShape = { rootPorts: 4, functions: 9 };
  const small = path.join(dir, "small.sysfs.tar.gz");
  await writeSyntheticCapture(small, smallShape);
  const startup = paired(15, () => run(process.execPath, ["-e", "0"]), () => run(process.execPath, [BIN, "groups", "--json", small]));
  log(`start-up: ${captureSize(smallShape)}-function capture, 15 paired runs`);
  goal(log, `groups --json ${fmtMs(startup.b)} vs node -e 0 ${fmtMs(startup.a)}: ${(startup.b / startup.a).toFixed(2)}× ≤ 2×`, startup.b / startup.a <= 2);
}

function parserSection(log: (line: string) => void): void {
  log("");
  const archive = new Uint8Array(readFileSync(BUNDLED_EXAMPLE));
  const load = medianOf(30, () => snapshotFromSysfs(decodeArchive(archive, "example")));
  log(`capture read + decode (bundled example, 10 functions): ${fmtMs(load.ms)}`);
  const lspci = benchParse();
  goal(log, `lspci text parse (${(lspci.bytes / 1e6).toFixed(1)} MB): ${lspci.mbPerSecond.toFixed(0)} MB/s ≥ 100 MB/s (margin ${(lspci.mbPerSecond / 100).toFixed(2)}×)`, lspci.mbPerSecond >= 100);
  runSimBench(log);
}

if (process.argv.includes("--million")) millionChild();
else await runBench();
