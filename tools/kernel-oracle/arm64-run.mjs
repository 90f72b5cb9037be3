// npm run test:kernel -- --arch arm64: the arm64 oracle command (see README.md beside this file).

import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { randomInt } from "node:crypto";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { readCapture } from "./archive.mjs";
import {
  ARM64_KERNELS,
  ARM64_QEMU,
  ARM64_UEFI,
  arm64Cmdline,
  arm64QemuArgs,
  buildArm64Initramfs,
  ensureArm64,
  generateArm64Topology,
  moduleWithDeps,
} from "./arm64.mjs";
import { bootTopology, running, shellQuote } from "./boot.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, "../..");
const FAILURES = join(REPO, ".oracle-failures");
const SEEDS_FILE = join(HERE, "seeds-arm64.txt");
const CLI = join(REPO, "bin", "iommu-atlas.js");

export const ARM64_USAGE = `usage: npm run test:kernel -- --arch arm64 [options]

Boots generated PCI topologies under qemu-system-aarch64 -M virt,iommu=smmuv3 (TCG) with Debian's
arm64 kernels (fetched with apt-get download into .oracle-cache/), loads e1000e / e1000 / nvme from
the same package in the guest, optionally enables SR-IOV VFs on nvme, captures sysfs with
scripts/capture.sh and runs 'iommu-atlas diff' on each capture.

  --count N            number of seeds (default: every seed of tools/kernel-oracle/seeds-arm64.txt)
  --seed S | --random  seeds S, S+1, ... or random seeds instead of seeds-arm64.txt
  --kernel K           6.1, 6.12 or all (default all)
  --acpi               boot through UEFI (qemu-efi-aarch64) with acpi=force, so the kernel reads IORT
  --capture-only DIR   save NAME.topology.json + NAME.sysfs.tar.gz in DIR, run no diff
  --jobs J             parallel boots (default 2)
  --timeout SEC        per boot (default 180)
  --cache DIR          where the Debian packages are unpacked (default .oracle-cache)
  --keep               keep the work directory
  --dry-run            print topologies and QEMU command lines
  --no-install         do not run dpkg/apt-get
`;

/** @param {string[]} argv */
function options(argv) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      arch: { type: "string" },
      count: { type: "string" },
      seed: { type: "string" },
      random: { type: "boolean", default: false },
      kernel: { type: "string", default: "all" },
      acpi: { type: "boolean", default: false },
      "capture-only": { type: "string" },
      jobs: { type: "string", default: "2" },
      timeout: { type: "string", default: "180" },
      cache: { type: "string", default: join(REPO, ".oracle-cache") },
      keep: { type: "boolean", default: false },
      "dry-run": { type: "boolean", default: false },
      "no-install": { type: "boolean", default: false },
      "capture-script": { type: "string", default: join(REPO, "scripts", "capture.sh") },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const int = (/** @type {string | undefined} */ s, /** @type {string} */ what) => {
    if (s === undefined) return undefined;
    if (!/^\d+$/.test(s)) throw new Error(`--${what} needs a non-negative integer, got ${s}`);
    return Number(s);
  };
  const labels = ARM64_KERNELS.map((k) => k.label);
  const kernels = values.kernel === "all" ? labels : values.kernel.split(",");
  for (const k of kernels) if (!labels.includes(k)) throw new Error(`--kernel must be ${labels.join(", ")} or all, got ${k}`);
  return {
    help: values.help === true,
    count: int(values.count, "count"),
    seed: int(values.seed, "seed"),
    random: values.random === true,
    kernels,
    acpi: values.acpi === true,
    captureOnly: values["capture-only"] ?? null,
    jobs: Math.max(1, int(values.jobs, "jobs") ?? 2),
    timeoutMs: (int(values.timeout, "timeout") ?? 180) * 1000,
    cache: resolve(values.cache),
    keep: values.keep === true,
    dryRun: values["dry-run"] === true,
    install: values["no-install"] !== true,
    captureScript: resolve(values["capture-script"]),
  };
}

/** @param {string} file */
function readSeeds(file) {
  return readFileSync(file, "utf8")
    .split("\n")
    .map((l) => l.replace(/#.*/, "").trim())
    .filter((l) => l !== "")
    .map(Number);
}

/**
 * The arm64 oracle run; returns the exit status (0 all passed, 1 a case failed, 2 bad options).
 * @param {string[]} argv
 */
export async function runArm64(argv) {
  let opt;
  try {
    opt = options(argv);
  } catch (e) {
    console.error(`test:kernel: ${e instanceof Error ? e.message : String(e)}\n\n${ARM64_USAGE}`);
    return 2;
  }
  if (opt.help) {
    process.stdout.write(ARM64_USAGE);
    return 0;
  }
  const listed = readSeeds(SEEDS_FILE);
  const count = opt.count ?? listed.length;
  const seeds =
    opt.seed !== undefined
      ? Array.from({ length: count }, (_, i) => (opt.seed ?? 0) + i)
      : opt.random
        ? Array.from({ length: count }, () => randomInt(0, 2 ** 31))
        : listed.slice(0, count);
  if (opt.random) console.log(`seeds: ${seeds.join(" ")}`);
  const topologies = seeds.map((s) => ({ ...generateArm64Topology(s), ...(opt.acpi && { acpi: true }) }));
  if (opt.dryRun) {
    for (const t of topologies) {
      console.log(`# ${t.name}: ${t.description}\n${JSON.stringify(t, null, 1)}`);
      console.log(`${ARM64_QEMU} ${shellQuote(arm64QemuArgs(t, { kernel: "Image", initrd: "initrd", consoleLog: "console.log" }))}\n`);
    }
    return 0;
  }
  if (opt.acpi && !existsSync(ARM64_UEFI)) throw new Error(`${ARM64_UEFI} is missing: apt-get install qemu-efi-aarch64`);
  const env = ensureArm64(opt.cache, { install: opt.install, kernels: opt.kernels });
  const work = mkdtempSync(join(tmpdir(), "iommu-atlas-oracle-arm64-"));
  const cleanup = () => {
    for (const child of running) child.kill("SIGKILL");
    if (!opt.keep) rmSync(work, { recursive: true, force: true });
  };
  process.once("SIGINT", () => (cleanup(), process.exit(130)));
  process.once("SIGTERM", () => (cleanup(), process.exit(130)));
  /** @type {Record<string, string>} */
  const initrds = {};
  for (const k of env.kernels) {
    const mods = Object.fromEntries(["e1000e", "e1000", "nvme"].map((m) => [m, moduleWithDeps(join(k.root, "lib/modules", k.version), m)]));
    const file = join(work, `initramfs-${k.label}.cpio.gz`);
    writeFileSync(file, buildArm64Initramfs({ busybox: readFileSync(env.busybox), captureScript: readFileSync(opt.captureScript), modules: mods }));
    initrds[k.label] = file;
  }
  if (opt.captureOnly !== null) mkdirSync(opt.captureOnly, { recursive: true });
  console.log(`${topologies.length} topologies × ${env.kernels.map((k) => k.version).join(", ")}${opt.acpi ? " (UEFI, ACPI)" : " (device tree)"}, ${opt.jobs} at a time`);

  const jobs = topologies.flatMap((t) => env.kernels.map((k) => ({ t, k })));
  const started = Date.now();
  let next = 0;
  let passed = 0;
  let failed = 0;
  /** @type {number[]} */
  const times = [];
  const worker = async () => {
    for (;;) {
      const job = jobs[next++];
      if (!job) return;
      const { t, k } = job;
      const name = `${t.name}-${k.label}${opt.acpi ? "-acpi" : ""}`;
      const dir = join(work, name);
      const boot = await bootTopology(/** @type {any} */ (t), {
        qemu: ARM64_QEMU,
        kernel: k.image,
        initrd: initrds[k.label],
        workDir: dir,
        timeoutMs: opt.timeoutMs,
        argsFor: (consoleLog) => arm64QemuArgs(t, { kernel: k.image, initrd: initrds[k.label], consoleLog }),
      });
      times.push(boot.seconds);
      const line = (/** @type {string} */ status, /** @type {string} */ note) =>
        console.log(`${status.padEnd(5)} ${name.padEnd(24)} ${t.description.padEnd(52)} ${boot.seconds.toFixed(1).padStart(5)} s  ${note}`);
      if (!boot.ok || !boot.capture) {
        failed++;
        line("ERROR", `boot: ${boot.error}`);
        save(name, t, null, `boot: ${boot.error}`, boot.consoleLog);
        continue;
      }
      const capturePath = join(dir, "capture.tar.gz");
      writeFileSync(capturePath, boot.capture);
      const got = readCapture(capturePath);
      const problems = [];
      // EDK2 appends the initrd= it loaded the initramfs from
      const cmdline = t.acpi ? (got.cmdline ?? "").replace(/ initrd=\S+$/, "") : got.cmdline;
      if (cmdline !== arm64Cmdline(t)) problems.push(`guest /proc/cmdline is ${JSON.stringify(got.cmdline)}`);
      if (got.groups.size === 0) problems.push("the capture has no IOMMU groups (SMMU off?)");
      if (problems.length > 0) {
        failed++;
        line("ERROR", `harness: ${problems[0]}`);
        save(name, t, boot.capture, problems.join("\n"), boot.consoleLog);
        continue;
      }
      if (opt.captureOnly !== null) {
        writeFileSync(join(opt.captureOnly, `${name}.topology.json`), `${JSON.stringify(t, null, 1)}\n`);
        writeFileSync(join(opt.captureOnly, `${name}.sysfs.tar.gz`), boot.capture);
        passed++;
        line("ok", `captured, ${got.groups.size} groups`);
        continue;
      }
      const diff = await runDiff(capturePath);
      if (diff.code === 0) {
        passed++;
        line("ok", `${got.groups.size} groups`);
      } else {
        failed++;
        line(diff.code === 1 ? "FAIL" : "ERROR", (diff.stdout.split("\n")[0] || diff.stderr.split("\n")[0]) ?? "");
        save(name, t, boot.capture, `$ iommu-atlas diff capture.tar.gz\n${diff.stdout}${diff.stderr}(exit ${diff.code})\n`, boot.consoleLog);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opt.jobs, jobs.length) }, worker));
  if (opt.keep) console.log(`work directory kept: ${work}`);
  else rmSync(work, { recursive: true, force: true });
  const mean = times.length > 0 ? times.reduce((a, b) => a + b, 0) / times.length : 0;
  console.log(`took ${((Date.now() - started) / 1000).toFixed(0)} s; mean boot ${mean.toFixed(1)} s`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

/** @param {string} capture */
function runDiff(capture) {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, "diff", capture], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => done({ code: code ?? 2, stdout, stderr }));
  });
}

/**
 * Keeps a failure: topology.json, capture.tar.gz, diff.txt, console.log.
 * @param {string} name @param {object} t @param {Buffer | null} capture @param {string} details @param {string} consoleLog
 */
function save(name, t, capture, details, consoleLog) {
  const dir = join(FAILURES, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "topology.json"), `${JSON.stringify(t, null, 1)}\n`);
  if (capture) writeFileSync(join(dir, "capture.tar.gz"), capture);
  writeFileSync(join(dir, "diff.txt"), details);
  if (existsSync(consoleLog)) writeFileSync(join(dir, "console.log"), readFileSync(consoleLog));
  console.log(`      saved in ${relative(REPO, dir)}`);
}
