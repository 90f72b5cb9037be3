// Host side of one boot: find the kernel, build the initramfs, run QEMU, pull the capture out
// of the serial console log.

import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { qemuArgs } from "./gen.mjs";
import { buildInitramfs, parseSerialCapture } from "./initramfs.mjs";

export const QEMU = "qemu-system-x86_64";
export const BUSYBOX = "/bin/busybox";

/** QEMU processes still running, so that an interrupted run can end them. */
/** @type {Set<import("node:child_process").ChildProcess>} */
export const running = new Set();

/** @typedef {import("./gen.mjs").Topology} Topology */

/**
 * The Debian packages that provide each kernel series the oracle boots: bookworm's own 6.1 and
 * the 6.12 that bookworm-security carries (linux-image-6.12.*+deb12-amd64).
 */
export const KERNEL_PACKAGES = /** @type {const} */ ({ "6.1": "linux-image-amd64", "6.12": "linux-image-6.12-amd64" });

/**
 * The newest Debian kernel image (vmlinuz-<version>) in `dir`, of kernel series `series`
 * ("6.1", "6.12") when given; null when there is none.
 * @param {string} [dir]
 * @param {string} [series]
 * @returns {string | null}
 */
export function findKernel(dir = "/boot", series) {
  if (!existsSync(dir)) return null;
  const images = readdirSync(dir)
    .filter((f) => /^vmlinuz-\d/.test(f))
    .filter((f) => series === undefined || kernelSeries(f.slice("vmlinuz-".length)) === series)
    .sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  const last = images[images.length - 1];
  return last === undefined ? null : join(dir, last);
}

/** "6.12" for `6.12.118+deb12-amd64`, "6.1" for `6.1.0-57-amd64`; null when it is not a release. @param {string} release */
export function kernelSeries(release) {
  const m = /^(\d+)\.(\d+)(?:[.+-]|$)/.exec(release);
  return m ? `${m[1]}.${m[2]}` : null;
}

/**
 * The uncompressed kernel (ELF vmlinux) inside a bzImage, when it can be booted directly: QEMU
 * then enters it through its PVH note and the guest skips decompressing ~8 MB of XZ under TCG,
 * about a third of a boot's CPU time. Same kernel, same firmware (SeaBIOS still runs), same ACPI
 * tables and PCI enumeration. Debian's images carry XZ (6.1) or zstd (6.12) payloads; gzip is
 * read too. Returns null (boot the bzImage) when the image is not a bzImage, its payload is in
 * another format or its tool (xz, zstd) is missing, or the ELF has no PVH entry note.
 * @param {string} bzImage
 * @returns {Buffer | null}
 */
export function extractVmlinux(bzImage) {
  const img = readFileSync(bzImage);
  if (img.length < 0x250 || img.readUInt32LE(0x202) !== 0x53726448 /* "HdrS" */) return null;
  const protectedMode = ((img[0x1f1] || 4) + 1) * 512;
  const start = protectedMode + img.readUInt32LE(0x248); // payload_offset
  const payload = img.subarray(start, start + img.readUInt32LE(0x24c)); // payload_length
  /** @type {Buffer} */
  let elf;
  try {
    const format = payloadFormat(payload);
    if (format === "gzip") elf = gunzipSync(payload);
    else if (format === "xz") elf = decompressWith("xz", ["-dc", "--single-stream"], payload);
    // the kernel's build appends the uncompressed size (4 bytes) after the zstd frame, which zstd refuses
    else if (format === "zstd") elf = decompressWith("zstd", ["-dcq"], payload.subarray(0, payload.length - 4));
    else return null;
  } catch {
    return null;
  }
  return hasPvhNote(elf) ? elf : null;
}

/**
 * The compression of a bzImage payload, by its magic bytes.
 * @param {Uint8Array} payload
 * @returns {"gzip" | "xz" | "zstd" | "lz4" | "lzma" | "bzip2" | "lzo" | null}
 */
export function payloadFormat(payload) {
  const b = Buffer.from(payload.buffer, payload.byteOffset, Math.min(payload.byteLength, 6));
  if (b[0] === 0x1f && b[1] === 0x8b) return "gzip";
  if (b.equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return "xz";
  if (b.readUInt32LE(0) === 0xfd2fb528) return "zstd";
  if (b.readUInt32LE(0) === 0x184c2102) return "lz4";
  if (b[0] === 0x5d && b[1] === 0x00 && b[2] === 0x00) return "lzma";
  if (b.toString("latin1", 0, 3) === "BZh") return "bzip2";
  if (b.subarray(0, 4).equals(Buffer.from([0x89, 0x4c, 0x5a, 0x4f]))) return "lzo";
  return null;
}

/** @param {string} tool @param {string[]} args @param {Uint8Array} input */
function decompressWith(tool, args, input) {
  return execFileSync(tool, args, { input, maxBuffer: 1 << 30, stdio: ["pipe", "pipe", "ignore"] });
}

/** Whether an ELF64 image carries a Xen PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY, type 18). */
export function hasPvhNote(/** @type {Buffer} */ elf) {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) return false;
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (ph + 40 > elf.length || elf.readUInt32LE(ph) !== 4 /* PT_NOTE */) continue;
    const off = Number(elf.readBigUInt64LE(ph + 8));
    const end = Math.min(elf.length, off + Number(elf.readBigUInt64LE(ph + 32)));
    for (let n = off; n + 12 <= end; ) {
      const namesz = elf.readUInt32LE(n);
      const descsz = elf.readUInt32LE(n + 4);
      const type = elf.readUInt32LE(n + 8);
      const name = elf.toString("latin1", n + 12, n + 12 + Math.max(0, namesz - 1));
      if (name === "Xen" && type === 18) return true;
      n += 12 + ((namesz + 3) & ~3) + ((descsz + 3) & ~3);
    }
  }
  return false;
}

/**
 * Writes the initramfs for `captureScript` into `dir` and returns its path.
 * @param {string} dir
 * @param {string} captureScript path of the POSIX sh capture script
 */
export function writeInitramfs(dir, captureScript) {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "initramfs.cpio.gz");
  writeFileSync(path, buildInitramfs({ busybox: readFileSync(BUSYBOX), captureScript: readFileSync(captureScript) }));
  return path;
}

/**
 * @typedef {object} BootResult
 * @property {boolean} ok
 * @property {Buffer} [capture] the tar.gz the guest sent
 * @property {string} [error] why there is no capture
 * @property {number} seconds wall time of the QEMU run
 * @property {string} consoleLog path of the console log
 * @property {string} qemuStderr
 */

/**
 * Boots `topology` once and returns the capture.
 * @param {Topology} topology
 * @param {{kernel: string, initrd: string, workDir: string, timeoutMs?: number, qemu?: string, argsFor?: (consoleLog: string) => string[]}} o
 * @returns {Promise<BootResult>}
 */
export function bootTopology(topology, o) {
  mkdirSync(o.workDir, { recursive: true });
  const consoleLog = join(o.workDir, "console.log");
  writeFileSync(consoleLog, "");
  const args = o.argsFor ? o.argsFor(consoleLog) : qemuArgs(topology, { kernel: o.kernel, initrd: o.initrd, consoleLog });
  writeFileSync(join(o.workDir, "qemu.sh"), `${shellQuote([o.qemu ?? QEMU, ...args])}\n`);
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(o.qemu ?? QEMU, args, { stdio: ["ignore", "ignore", "pipe"] });
    running.add(child);
    let stderr = "";
    let timedOut = false;
    let done = false;
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (s) => {
      if (stderr.length < 20000) stderr += s;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, o.timeoutMs ?? 120_000);
    /** @param {string | null} spawnError */
    const finish = (spawnError) => {
      if (done) return;
      done = true;
      running.delete(child);
      clearTimeout(timer);
      const seconds = (Date.now() - started) / 1000;
      const qemuStderr = stderr
        .split("\n")
        .filter((l) => l.trim() !== "" && !/warning: nic \S+ has no peer/.test(l))
        .join("\n");
      const base = { seconds, consoleLog, qemuStderr };
      if (spawnError !== null) return resolve({ ok: false, error: spawnError, ...base });
      const text = readFileSync(consoleLog, "utf8");
      const parsed = parseSerialCapture(text);
      if (parsed.ok) return resolve({ ok: true, capture: parsed.capture, ...base });
      let error = parsed.error;
      const panic = /Kernel panic - not syncing: ([^\r\n]*)/.exec(text);
      if (panic) error = `kernel panic: ${panic[1]}`;
      if (timedOut) error = `timed out after ${Math.round(seconds)} s; ${error}`;
      if (qemuStderr !== "") error = `${error}; qemu said: ${qemuStderr.split("\n")[0]}`;
      resolve({ ok: false, error, ...base });
    };
    child.on("error", (e) => finish(`cannot run ${o.qemu ?? QEMU}: ${e.message}`));
    child.on("close", () => finish(null));
  });
}

/** @param {string[]} argv */
export function shellQuote(argv) {
  return argv.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}
