#!/usr/bin/env node
// npm run test:kernel — boots topologies under QEMU with Debian's kernel and checks that
// iommu-atlas predicts the kernel's IOMMU groups. See README.md beside this file.

import { execFileSync, spawn, spawnSync } from "node:child_process";
import { randomInt } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pc from "picocolors";
import { compareGroups, readCapture } from "./archive.mjs";
import { BUSYBOX, KERNEL_PACKAGES, QEMU, bootTopology, extractVmlinux, findKernel, running, shellQuote, writeInitramfs } from "./boot.mjs";
import { expectedGuestBdfs, generateTopology, kernelCmdline, qemuArgs, validateTopology } from "./gen.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, "../..");
const FAILURES = join(REPO, ".oracle-failures");
/** the kernel series of this run ("6.1", "6.12"), for failure records */
let runKernel = "6.1";
const SEEDS_FILE = join(HERE, "seeds.txt");
const CLI = join(REPO, "bin", "iommu-atlas.js");
/**
 * Debian packages the harness needs besides the kernel (the initramfs cpio archive is written by
 * initramfs.mjs; zstd unpacks 6.12's image, xz-utils 6.1's).
 */
const PACKAGES = ["qemu-system-x86", "busybox-static", "xz-utils", "zstd"];

const USAGE = `usage: npm run test:kernel -- [options]

Boots generated PCI topologies under qemu-system-x86_64 -M q35 (TCG) with Debian's kernel, captures
sysfs with scripts/capture.sh inside the guest and runs 'iommu-atlas diff' on each capture.

which cases (default: the seeds of tools/kernel-oracle/seeds.txt, or the first --count of them):
  --count N            number of generated cases (default: all of seeds.txt; 20 with --seed, --random)
  --seed S             seeds S, S+1, ... instead of seeds.txt
  --random             random seeds instead of seeds.txt (printed, and saved with failures)
  --iommu intel|amd    force the IOMMU of generated cases (default: the seed picks)
  --cases DIR|FILE     re-boot recorded *.topology.json and compare the kernel's groups with the
                       recorded NAME.sysfs.tar.gz beside them (self-check of the harness)
  --replay DIR         re-run a saved failure, e.g. .oracle-failures/gen-123
what to do:
  --capture-only DIR   save NAME.topology.json + NAME.sysfs.tar.gz in DIR, run no diff
  --dry-run            print the topologies and QEMU command lines, boot nothing
  --arch arm64         Debian's arm64 kernels under qemu-system-aarch64 instead (--arch arm64 --help)
which kernel:
  --kernel 6.1|6.12    the Debian kernel series to boot (default 6.1): the newest
                       vmlinuz-<series>.* in --kernel-dir; 6.1 is linux-image-amd64,
                       6.12 is linux-image-6.12-amd64 (bookworm-security)
  --kernel-dir DIR     where the vmlinuz-* images are (default /boot)
how:
  --jobs J             parallel boots (default 2)
  --timeout SEC        per boot (default 90)
  --capture-script F   capture script for the guest (default scripts/capture.sh)
  --keep               keep the work directory (QEMU logs, captures)
  --bzimage            boot the vmlinuz-* as it is (default: its vmlinux through PVH, faster)
  --no-boot-check      generated cases: skip the second diff, with --boot (ACS control modelled
                       from boot instead of read from the capture)
  --no-install         do not apt-get install missing packages
`;

/**
 * @typedef {import("./gen.mjs").Topology} Topology
 * @typedef {object} Case
 * @property {string} name
 * @property {Topology} topology
 * @property {number | null} seed
 * @property {"generated" | "recorded"} mode generated: compare with diff; recorded: with the archive
 * @property {Buffer | null} recorded the recorded archive (mode "recorded")
 * @typedef {{status: "pass" | "fail" | "error" | "skip", note: string, seconds: number, saved?: string}} Outcome
 */

async function main() {
  // --arch arm64: Debian's arm64 kernels under qemu-system-aarch64 (arm64-run.mjs); --arch x86: this command
  const argv = process.argv.slice(2);
  const archAt = argv.findIndex((a) => a === "--arch" || a.startsWith("--arch="));
  const arch = archAt < 0 ? "x86" : argv[archAt].includes("=") ? argv[archAt].slice(7) : argv[archAt + 1];
  if (arch === "arm64") return (await import("./arm64-run.mjs")).runArm64(argv);
  if (archAt >= 0) {
    if (arch !== "x86") {
      console.error(`test:kernel: --arch must be x86 or arm64, got ${arch}`);
      return 2;
    }
    process.argv.splice(2 + archAt, argv[archAt].includes("=") ? 1 : 2);
  }
  /** @type {ReturnType<typeof parseOptions>} */
  let opt;
  try {
    opt = parseOptions(process.argv.slice(2));
  } catch (e) {
    console.error(`test:kernel: ${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
    return 2;
  }
  if (opt.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const cases = loadCases(opt);
  for (const c of cases) {
    const problems = validateTopology(c.topology);
    if (problems.length > 0) throw new Error(`${c.name}: topology cannot be booted:\n  ${problems.join("\n  ")}`);
  }
  if (opt.dryRun) {
    for (const c of cases) {
      console.log(`# ${c.name}${c.seed !== null ? ` (seed ${c.seed})` : ""}: ${c.topology.description}`);
      console.log(JSON.stringify(c.topology, null, 1));
      console.log(`${QEMU} ${shellQuote(qemuPreview(c.topology))}\n`);
    }
    return 0;
  }

  runKernel = opt.kernel;
  ensurePackages(opt.install, findKernel(opt.kernelDir, opt.kernel) === null ? KERNEL_PACKAGES[opt.kernel] : null);
  const kernel = findKernel(opt.kernelDir, opt.kernel);
  if (kernel === null) throw new Error(`no ${opt.kernelDir}/vmlinuz-${opt.kernel}.* (apt-get install ${KERNEL_PACKAGES[opt.kernel]})`);
  const captureScript = resolve(opt.captureScript);
  if (!existsSync(captureScript)) {
    throw new Error(`capture script ${relative(process.cwd(), captureScript)} not found (--capture-script FILE)`);
  }
  const needDiff = opt.captureOnly === null && cases.some((c) => c.mode === "generated");
  const diffProblem = needDiff ? diffUnavailable() : null;
  if (diffProblem !== null) {
    console.log(pc.yellow(`diff unavailable: ${diffProblem}; generated cases are booted and their captures checked, not compared`));
  }

  const work = mkdtempSync(join(tmpdir(), "iommu-atlas-oracle-"));
  const interrupted = (/** @type {NodeJS.Signals} */ signal) => {
    for (const child of running) child.kill("SIGKILL");
    if (!opt.keep) rmSync(work, { recursive: true, force: true });
    console.error(`\ntest:kernel: interrupted (${signal})`);
    process.exit(130);
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  let bootImage = kernel;
  let bootHow = "bzImage";
  if (!opt.bzImage) {
    const elf = extractVmlinux(kernel);
    if (elf !== null) {
      bootImage = join(work, "vmlinux");
      writeFileSync(bootImage, elf);
      bootHow = "vmlinux via PVH";
    }
  }
  const initrd = writeInitramfs(work, captureScript);
  if (opt.captureOnly !== null) mkdirSync(opt.captureOnly, { recursive: true });
  console.log(
    `${cases.length} case(s), ${opt.jobs} at a time; kernel ${basename(kernel)} (${bootHow}), ${qemuVersion()}, ` +
      `capture script ${relative(REPO, captureScript) || captureScript}`,
  );

  const started = Date.now();
  const progress = new Progress(cases.length);
  const nameWidth = Math.min(40, Math.max(...cases.map((c) => c.name.length)));
  /** @type {Outcome[]} */
  const outcomes = [];
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      const c = cases[i];
      if (c === undefined) return;
      progress.start(c.name);
      const outcome = await runCase(c, { kernel: bootImage, initrd, work, opt, diffProblem });
      outcomes.push(outcome);
      progress.finish(c.name, formatLine(c, outcome, nameWidth));
    }
  };
  await Promise.all(Array.from({ length: Math.min(opt.jobs, cases.length) }, worker));
  progress.close();

  if (opt.keep) console.log(`work directory kept: ${work}`);
  else rmSync(work, { recursive: true, force: true });
  const count = (/** @type {Outcome["status"]} */ s) => outcomes.filter((o) => o.status === s).length;
  const passed = count("pass");
  const failed = count("fail") + count("error");
  const skipped = count("skip");
  const boots = outcomes.map((o) => o.seconds).filter((s) => s > 0);
  const mean = boots.length > 0 ? boots.reduce((a, b) => a + b, 0) / boots.length : 0;
  console.log(`took ${((Date.now() - started) / 1000).toFixed(0)} s; mean boot ${mean.toFixed(1)} s`);
  if (failed > 0) console.log(`replay a failure: npm run test:kernel -- --kernel ${opt.kernel} --replay .oracle-failures/<name>`);
  console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
  return failed > 0 ? 1 : 0;
}

/** @param {string[]} argv */
function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      count: { type: "string" },
      seed: { type: "string" },
      random: { type: "boolean", default: false },
      iommu: { type: "string" },
      jobs: { type: "string", default: "2" },
      cases: { type: "string" },
      replay: { type: "string" },
      "capture-only": { type: "string" },
      "dry-run": { type: "boolean", default: false },
      timeout: { type: "string", default: "90" },
      "capture-script": { type: "string", default: join(REPO, "scripts", "capture.sh") },
      keep: { type: "boolean", default: false },
      bzimage: { type: "boolean", default: false },
      kernel: { type: "string", default: "6.1" },
      "kernel-dir": { type: "string", default: "/boot" },
      "no-boot-check": { type: "boolean", default: false },
      "no-install": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const int = (/** @type {string | undefined} */ s, /** @type {string} */ what, lo = 0, hi = 0xffffffff) => {
    if (s === undefined) return undefined;
    if (!/^\d+$/.test(s) || Number(s) < lo || Number(s) > hi) throw new Error(`--${what} needs an integer in ${lo}..${hi}, got ${s}`);
    return Number(s);
  };
  const sources = [values.seed !== undefined, values.random, values.cases !== undefined, values.replay !== undefined];
  if (sources.filter(Boolean).length > 1) throw new Error("use only one of --seed, --random, --cases, --replay");
  if (values.iommu !== undefined && (values.cases !== undefined || values.replay !== undefined)) {
    throw new Error("--iommu applies to generated cases, not to --cases or --replay");
  }
  const series = /** @type {string} */ (values.kernel);
  if (!Object.hasOwn(KERNEL_PACKAGES, series)) throw new Error(`--kernel must be ${Object.keys(KERNEL_PACKAGES).join(" or ")}, got ${series}`);
  if (values.iommu !== undefined && values.iommu !== "intel" && values.iommu !== "amd") {
    throw new Error(`--iommu must be intel or amd, got ${values.iommu}`);
  }
  return {
    help: values.help === true,
    count: int(values.count, "count", 1, 100000),
    seed: int(values.seed, "seed"),
    random: values.random === true,
    iommu: /** @type {"intel" | "amd" | undefined} */ (values.iommu),
    jobs: /** @type {number} */ (int(values.jobs, "jobs", 1, 64)),
    cases: values.cases ?? null,
    replay: values.replay ?? null,
    captureOnly: values["capture-only"] ?? null,
    dryRun: values["dry-run"] === true,
    timeoutMs: /** @type {number} */ (int(values.timeout, "timeout", 5, 3600)) * 1000,
    captureScript: /** @type {string} */ (values["capture-script"]),
    keep: values.keep === true,
    bzImage: values.bzimage === true,
    kernel: /** @type {keyof typeof KERNEL_PACKAGES} */ (series),
    kernelDir: /** @type {string} */ (values["kernel-dir"]),
    bootCheck: values["no-boot-check"] !== true,
    install: values["no-install"] !== true,
  };
}

/** @param {ReturnType<typeof parseOptions>} opt @returns {Case[]} */
function loadCases(opt) {
  if (opt.replay !== null) return [loadReplay(opt.replay)];
  if (opt.cases !== null) {
    const p = resolve(opt.cases);
    const files = statSync(p).isDirectory()
      ? readdirSync(p)
          .filter((f) => f.endsWith(".topology.json"))
          .sort((a, b) => a.localeCompare(b, "en", { numeric: true }))
          .map((f) => join(p, f))
      : [p];
    if (files.length === 0) throw new Error(`no *.topology.json in ${opt.cases}`);
    return files.slice(0, opt.count ?? files.length).map((file) => {
      const topology = readJson(file);
      const archive = file.replace(/\.topology\.json$/, ".sysfs.tar.gz");
      return {
        name: topology.name,
        topology,
        seed: null,
        mode: opt.captureOnly !== null || existsSync(archive) ? "recorded" : "generated",
        recorded: existsSync(archive) ? readFileSync(archive) : null,
      };
    });
  }
  const count = opt.count ?? (opt.seed !== undefined || opt.random ? 20 : readSeeds(SEEDS_FILE).length);
  /** @type {number[]} */
  let seeds;
  if (opt.seed !== undefined) seeds = Array.from({ length: count }, (_, i) => ((opt.seed ?? 0) + i) >>> 0);
  else if (opt.random) seeds = Array.from({ length: count }, () => randomInt(0, 2 ** 32));
  else {
    const listed = readSeeds(SEEDS_FILE);
    if (count > listed.length) {
      throw new Error(`seeds.txt has ${listed.length} seeds; use --seed S or --random for --count ${count}`);
    }
    seeds = listed.slice(0, count);
  }
  if (opt.random) console.log(`seeds: ${seeds.join(" ")}`);
  return seeds.map((seed) => {
    const topology = generateTopology(seed, opt.iommu === undefined ? {} : { iommu: opt.iommu });
    return { name: topology.name, topology, seed, mode: "generated", recorded: null };
  });
}

/** @param {string} dir */
function loadReplay(dir) {
  const meta = existsSync(join(dir, "meta.json")) ? readJson(join(dir, "meta.json")) : {};
  const topology = readJson(join(dir, "topology.json"));
  const recordedPath = join(dir, "recorded.sysfs.tar.gz");
  const recorded = existsSync(recordedPath) ? readFileSync(recordedPath) : null;
  /** @type {Case} */
  const c = {
    name: topology.name,
    topology,
    seed: typeof meta.seed === "number" ? meta.seed : null,
    mode: recorded !== null ? "recorded" : "generated",
    recorded,
  };
  return c;
}

/** @param {string} file */
function readSeeds(file) {
  return readFileSync(file, "utf8")
    .split("\n")
    .map((l) => l.replace(/#.*/, "").trim())
    .filter((l) => l !== "")
    .map((l) => {
      if (!/^\d+$/.test(l) || Number(l) > 0xffffffff) throw new Error(`${file}: bad seed ${JSON.stringify(l)}`);
      return Number(l);
    });
}

/** @param {string} file */
function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * @param {Case} c
 * @param {{kernel: string, initrd: string, work: string, opt: ReturnType<typeof parseOptions>, diffProblem: string | null}} env
 * @returns {Promise<Outcome>}
 */
async function runCase(c, env) {
  const dir = join(env.work, c.name);
  const bootOptions = { kernel: env.kernel, initrd: env.initrd, workDir: dir, timeoutMs: env.opt.timeoutMs };
  // A boot without a capture is tried up to three times: under TCG on a busy host the kernel can
  // panic with "timer doesn't work through Interrupt-remapped IO-APIC" (AMD, whose IOMMU has
  // interrupt remapping on) before it gets anywhere near PCI. After that panic the retries boot
  // with no_timer_check, which skips that check and nothing else (grouping does not depend on it).
  let booted = c.topology;
  let boot = await bootTopology(booted, bootOptions);
  let retried = "";
  for (let attempt = 2; !boot.ok && attempt <= 3; attempt++) {
    if (TIMER_PANIC.test(boot.error ?? "")) booted = withKernelArg(c.topology, "no_timer_check");
    boot = await bootTopology(booted, bootOptions);
    retried = ` (${attempt} attempts${booted !== c.topology ? ", no_timer_check" : ""})`;
  }
  const seconds = boot.seconds;
  /** @type {{note: string, details: string, diffJson?: string}} */
  const fail = { note: "", details: "" };
  if (!boot.ok || boot.capture === undefined) {
    fail.note = `boot: ${boot.error}${retried}`;
    fail.details = `${fail.note}\n\nlast console lines:\n${tail(readFileSync(boot.consoleLog, "utf8"), 30)}`;
    return { status: "error", note: fail.note, seconds, saved: saveFailure(c, null, fail, boot.consoleLog, dir) };
  }
  const capturePath = join(dir, "capture.tar.gz");
  writeFileSync(capturePath, boot.capture);

  // Self-check: the guest saw the devices and the command line the topology asks for.
  const got = readCapture(capturePath);
  const want = expectedGuestBdfs(c.topology);
  const missing = want.filter((b) => !got.devices.includes(b));
  const extra = got.devices.filter((b) => !want.includes(b));
  /** @type {string[]} */
  const harness = [];
  if (missing.length + extra.length > 0) {
    harness.push(`guest PCI devices differ from the topology's: missing ${missing.join(" ") || "-"}, unexpected ${extra.join(" ") || "-"}`);
  }
  if (got.cmdline !== kernelCmdline(booted)) harness.push(`guest /proc/cmdline is ${JSON.stringify(got.cmdline)}`);
  if (got.groups.size === 0) harness.push("the capture has no IOMMU groups (IOMMU off?)");
  if (harness.length > 0) {
    fail.note = `harness: ${harness[0]}`;
    fail.details = harness.join("\n");
    return { status: "error", note: fail.note, seconds, saved: saveFailure(c, boot.capture, fail, boot.consoleLog, dir) };
  }

  if (env.opt.captureOnly !== null) {
    writeFileSync(join(env.opt.captureOnly, `${c.name}.topology.json`), `${JSON.stringify(c.topology, null, 1)}\n`);
    writeFileSync(join(env.opt.captureOnly, `${c.name}.sysfs.tar.gz`), boot.capture);
    return { status: "pass", note: `captured, ${got.groups.size} groups`, seconds };
  }

  if (c.mode === "recorded") {
    if (c.recorded === null) return { status: "error", note: "no recorded .sysfs.tar.gz to compare with", seconds };
    const cmp = compareGroups(readCapture(c.recorded).groups, got.groups);
    if (cmp.sameMembership) {
      return { status: "pass", note: `${got.groups.size} groups as recorded${cmp.sameNumbers ? "" : " (numbers differ)"}`, seconds };
    }
    fail.note = `groups differ from the recording: ${cmp.differences[0]}`;
    fail.details = `expected = recorded archive, actual = this boot\n${cmp.differences.join("\n")}`;
    return { status: "fail", note: fail.note, seconds, saved: saveFailure(c, boot.capture, fail, boot.consoleLog, dir) };
  }

  if (env.diffProblem !== null) return { status: "skip", note: `captured, ${got.groups.size} groups; diff unavailable`, seconds };
  // captured: ACS control as the capture shows it; --boot: modelled from the kernel's boot
  // enabling and the kernel arguments, from the firmware's value (0 under SeaBIOS)
  const modes = env.opt.bootCheck ? [[], ["--boot"]] : [[]];
  /** @type {{code: number, stdout: string, stderr: string}} */
  let diff = { code: 0, stdout: "", stderr: "" };
  let flags = /** @type {string[]} */ ([]);
  for (const m of modes) {
    flags = m;
    diff = await runDiff(capturePath, [...m]);
    if (diff.code !== 0) break;
  }
  if (diff.code === 0) return { status: "pass", note: `${got.groups.size} groups${env.opt.bootCheck ? ", captured and --boot" : ""}`, seconds };
  const json = await runDiff(capturePath, [...flags, "--json"]);
  const first = firstLine(diff.stdout) || firstLine(diff.stderr) || `exit status ${diff.code}`;
  const cmd = ["diff", ...flags].join(" ");
  fail.note = diff.code === 1 ? `${cmd}: ${first}` : `${cmd} error (exit ${diff.code}): ${first}`;
  fail.details = `$ iommu-atlas ${cmd} capture.tar.gz\n${diff.stdout}${diff.stderr}\n(exit status ${diff.code})\n`;
  fail.diffJson = json.stdout;
  return {
    status: diff.code === 1 ? "fail" : "error",
    note: fail.note,
    seconds,
    saved: saveFailure(c, boot.capture, fail, boot.consoleLog, dir),
  };
}

/** The panic a busy TCG host can cause in the kernel's IO-APIC timer check. */
const TIMER_PANIC = /timer doesn't work through Interrupt-remapped IO-APIC/;

/** `t` with one more kernel argument. @param {Topology} t @param {string} arg @returns {Topology} */
function withKernelArg(t, arg) {
  return { ...t, kernel_args: [t.kernel_args ?? "", arg].join(" ").trim() };
}

/**
 * @param {string} capture
 * @param {string[]} flags e.g. ["--boot", "--json"]
 * @returns {Promise<{code: number, stdout: string, stderr: string}>}
 */
function runDiff(capture, flags) {
  return new Promise((done) => {
    const args = [CLI, "diff", capture, ...flags];
    const child = spawn(process.execPath, args, { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code: code ?? 2, stdout, stderr });
    });
  });
}

/** Why `iommu-atlas diff` cannot run, or null when it can. */
function diffUnavailable() {
  if (!existsSync(CLI) || !existsSync(join(REPO, "dist", "cli", "main.js"))) {
    return "bin/iommu-atlas.js or dist/cli/main.js is missing (npm run build)";
  }
  const r = spawnSync(process.execPath, [CLI, "diff", "--help"], { cwd: REPO, encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) return `'iommu-atlas diff --help' fails: ${firstLine(r.stderr) || firstLine(r.stdout) || `status ${r.status}`}`;
  return null;
}

/**
 * Saves what it takes to look at and replay a failure; returns the directory (relative to the repo).
 * @param {Case} c
 * @param {Buffer | null} capture
 * @param {{note: string, details: string, diffJson?: string}} fail
 * @param {string} consoleLog
 * @param {string} workDir
 */
function saveFailure(c, capture, fail, consoleLog, workDir) {
  // one directory per kernel series, so that failures of the same case on both kernels stay apart
  const dir = join(FAILURES, runKernel === "6.1" ? c.name : `${c.name}-linux-${runKernel}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const rel = relative(REPO, dir);
  writeFileSync(join(dir, "topology.json"), `${JSON.stringify(c.topology, null, 1)}\n`);
  writeFileSync(
    join(dir, "meta.json"),
    `${JSON.stringify(
      {
        name: c.name,
        seed: c.seed,
        mode: c.mode,
        reason: fail.note,
        kernel: runKernel,
        kernel_cmdline: kernelCmdline(c.topology),
        replay: `npm run test:kernel -- --kernel ${runKernel} --replay ${rel}`,
        diff: capture !== null ? `node bin/iommu-atlas.js diff ${rel}/capture.tar.gz` : null,
      },
      null,
      1,
    )}\n`,
  );
  if (c.seed !== null) writeFileSync(join(dir, "seed.txt"), `${c.seed}\n`);
  if (capture !== null) writeFileSync(join(dir, "capture.tar.gz"), capture);
  if (c.recorded !== null) writeFileSync(join(dir, "recorded.sysfs.tar.gz"), c.recorded);
  writeFileSync(join(dir, "diff.txt"), `${fail.details.trimEnd()}\n`);
  if (fail.diffJson !== undefined && fail.diffJson !== "") writeFileSync(join(dir, "diff.json"), fail.diffJson);
  if (existsSync(consoleLog)) writeFileSync(join(dir, "console.log"), readFileSync(consoleLog));
  const qemuSh = join(workDir, "qemu.sh");
  if (existsSync(qemuSh)) writeFileSync(join(dir, "qemu.sh"), readFileSync(qemuSh));
  return rel;
}

/** @param {Case} c @param {Outcome} o @param {number} nameWidth */
function formatLine(c, o, nameWidth) {
  const tag = { pass: pc.green("ok   "), fail: pc.red("FAIL "), error: pc.red("ERROR"), skip: pc.yellow("skip ") }[o.status];
  const iommu = c.topology.iommu === "amd" ? "amd  " : "intel";
  const devs = `${String(c.topology.devices.length).padStart(2)} dev`;
  const saved = o.saved !== undefined ? `  -> ${o.saved}` : "";
  return `${tag} ${c.name.padEnd(nameWidth)} ${iommu} ${devs} ${o.seconds.toFixed(1).padStart(5)} s  ${o.note}${saved}`;
}

/** Per-case lines, and on a terminal a live status line of the running boots. */
class Progress {
  /** @param {number} total */
  constructor(total) {
    this.total = total;
    this.done = 0;
    /** @type {Map<string, number>} */
    this.running = new Map();
    this.tty = process.stdout.isTTY === true;
    this.timer = this.tty ? setInterval(() => this.draw(), 500) : null;
  }
  /** @param {string} name */
  start(name) {
    this.running.set(name, Date.now());
    this.draw();
  }
  /** @param {string} name @param {string} line */
  finish(name, line) {
    this.running.delete(name);
    this.done++;
    this.clear();
    const width = String(this.total).length;
    console.log(`[${String(this.done).padStart(width)}/${this.total}] ${line}`);
    this.draw();
  }
  clear() {
    if (this.tty) process.stdout.write("\r\x1b[K");
  }
  draw() {
    if (!this.tty || this.running.size === 0) return;
    const now = Date.now();
    const names = [...this.running].map(([n, t]) => `${n} ${((now - t) / 1000).toFixed(0)}s`).join(", ");
    const cols = process.stdout.columns ?? 100;
    process.stdout.write(`\r\x1b[K${`[${this.done}/${this.total}] booting ${names}`.slice(0, cols - 1)}`);
  }
  close() {
    if (this.timer !== null) clearInterval(this.timer);
    this.clear();
  }
}

/**
 * Installs the Debian packages that are missing (apt-get update first), or says what to do.
 * @param {boolean} allowed
 * @param {string | null} kernelPackage the package of the kernel series asked for, when its image is missing
 */
function ensurePackages(allowed, kernelPackage) {
  const have = (/** @type {string} */ cmd) => spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
  /** @type {string[]} */
  let missing;
  if (have("dpkg-query")) {
    missing = [...PACKAGES, ...(kernelPackage === null ? [] : [kernelPackage])].filter((p) => {
      const r = spawnSync("dpkg-query", ["-W", "--showformat=${Status}", p], { encoding: "utf8" });
      return r.status !== 0 || !r.stdout.includes("install ok installed");
    });
  } else {
    missing = [];
  }
  if (missing.length > 0) {
    const cmd = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(" ")}`;
    if (!allowed) throw new Error(`missing Debian packages: ${missing.join(" ")} (${cmd})`);
    if (typeof process.getuid === "function" && process.getuid() !== 0) {
      throw new Error(`missing Debian packages: ${missing.join(" ")}; as root: ${cmd}`);
    }
    console.log(`installing ${missing.join(" ")} (apt-get) ...`);
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    for (const args of [["update"], ["install", "-y", "--no-install-recommends", ...missing]]) {
      const r = spawnSync("apt-get", args, { encoding: "utf8", env, maxBuffer: 64 * 1024 * 1024 });
      if (r.status !== 0) throw new Error(`apt-get ${args[0]} failed:\n${tail(`${r.stdout ?? ""}${r.stderr ?? ""}`, 15)}`);
    }
  }
  if (!have(QEMU)) throw new Error(`${QEMU} not found (apt-get install qemu-system-x86)`);
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} not found (apt-get install busybox-static)`);
}

function qemuVersion() {
  try {
    const out = execFileSync(QEMU, ["--version"], { encoding: "utf8" });
    return `QEMU ${/version (\S+)/.exec(out)?.[1] ?? "?"}`;
  } catch {
    return "QEMU ?";
  }
}

/** The QEMU arguments with placeholder paths, for --dry-run. @param {Topology} t */
function qemuPreview(t) {
  return qemuArgs(t, { kernel: "VMLINUZ", initrd: "INITRAMFS", consoleLog: "console.log" });
}

/** @param {string} s @param {number} n */
function tail(s, n) {
  return s.split(/\r?\n/).slice(-n).join("\n");
}

/** @param {string} s */
function firstLine(s) {
  return s.split(/\r?\n/).find((l) => l.trim() !== "")?.trim() ?? "";
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (/** @type {unknown} */ err) => {
    console.error(`test:kernel: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 2;
  },
);
