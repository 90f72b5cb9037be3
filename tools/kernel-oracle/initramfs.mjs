// The guest side of the kernel oracle: a busybox initramfs (cpio "newc", gzip) whose /init runs
// the capture script, prints the archive on the serial console as base64 between marker lines,
// and powers off; plus the parser for what arrives on the console.

import { gzipSync } from "node:zlib";

export const BEGIN_MARKER = "IOMMU-ATLAS-CAPTURE-BEGIN";
export const END_MARKER = "IOMMU-ATLAS-CAPTURE-END";

/**
 * /init of the guest (busybox sh, PID 1). Everything goes to the console (ttyS0): first the
 * capture script's own messages, then, with kernel messages to the console switched off so that
 * none can land in the middle, the archive as base64 between marker lines. One serial port only,
 * as in the recorded cases (a second one would show up in the ICH9 LPC config space).
 */
export const INIT_SCRIPT = `#!/bin/sh
export PATH=/bin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
cd /tmp
sh /capture.sh -o /tmp/capture.tar.gz
rc=$?
[ -s /tmp/capture.tar.gz ] || rc="$rc-no-archive"
dmesg -n 1
echo
echo "${BEGIN_MARKER} rc=$rc bytes=$(wc -c < /tmp/capture.tar.gz 2>/dev/null || echo 0)"
[ -s /tmp/capture.tar.gz ] && base64 /tmp/capture.tar.gz
echo "${END_MARKER}"
sync
poweroff -f
`;

/**
 * @typedef {object} CpioEntry
 * @property {string} name path inside the archive, without a leading "/"
 * @property {"dir" | "file" | "symlink" | "char"} type
 * @property {number} [perm] permission bits (default 0755 for dirs/executables, 0644 files)
 * @property {Uint8Array | string} [data] file contents
 * @property {string} [target] symlink target
 * @property {[number, number]} [rdev] major, minor of a character device
 */

const TYPE_BITS = { dir: 0o040000, file: 0o100000, symlink: 0o120000, char: 0o020000 };

/**
 * A cpio archive in the "newc" format (the one the kernel unpacks as initramfs).
 * Owner root, mtime 0: the same inputs give the same bytes.
 * @param {CpioEntry[]} entries
 * @returns {Buffer}
 */
export function cpioNewc(entries) {
  /** @type {Buffer[]} */
  const parts = [];
  let offset = 0;
  /** @param {Buffer} b */
  const push = (b) => {
    parts.push(b);
    offset += b.length;
  };
  const pad = () => {
    const n = (4 - (offset % 4)) % 4;
    if (n > 0) push(Buffer.alloc(n));
  };
  let ino = 1;
  const all = [...entries, /** @type {CpioEntry} */ ({ name: "TRAILER!!!", type: "file", perm: 0, data: "" })];
  for (const e of all) {
    const trailer = e.name === "TRAILER!!!";
    const body =
      e.type === "symlink"
        ? Buffer.from(e.target ?? "", "utf8")
        : e.type === "file"
          ? Buffer.from(typeof e.data === "string" ? Buffer.from(e.data, "utf8") : (e.data ?? new Uint8Array()))
          : Buffer.alloc(0);
    const perm = e.perm ?? (e.type === "file" ? 0o644 : e.type === "symlink" ? 0o777 : 0o755);
    const mode = trailer ? 0 : TYPE_BITS[e.type] | perm;
    const name = Buffer.from(`${e.name}\0`, "utf8");
    const fields = [
      trailer ? 0 : ino++, // c_ino
      mode, // c_mode
      0, // c_uid
      0, // c_gid
      e.type === "dir" ? 2 : 1, // c_nlink
      0, // c_mtime
      body.length, // c_filesize
      0, // c_devmajor
      0, // c_devminor
      e.rdev ? e.rdev[0] : 0, // c_rdevmajor
      e.rdev ? e.rdev[1] : 0, // c_rdevminor
      name.length, // c_namesize
      0, // c_check
    ];
    push(Buffer.from(`070701${fields.map((f) => f.toString(16).padStart(8, "0")).join("")}`, "ascii"));
    push(name);
    pad();
    if (body.length > 0) {
      push(body);
      pad();
    }
  }
  // Round up to 512 bytes like cpio(1) does; the kernel does not care.
  const tail = (512 - (offset % 512)) % 512;
  if (tail > 0) push(Buffer.alloc(tail));
  return Buffer.concat(parts);
}

/**
 * Reads a newc archive back (for tests and for checking what was built).
 * @param {Uint8Array} buf
 * @returns {{name: string, mode: number, data: Buffer, rdev: [number, number]}[]}
 */
export function readCpioNewc(buf) {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  /** @type {{name: string, mode: number, data: Buffer, rdev: [number, number]}[]} */
  const out = [];
  let off = 0;
  const align = (/** @type {number} */ n) => (n + 3) & ~3;
  for (;;) {
    if (off + 110 > b.length) throw new Error(`cpio: truncated header at offset ${off}`);
    const magic = b.toString("ascii", off, off + 6);
    if (magic !== "070701") throw new Error(`cpio: bad magic ${JSON.stringify(magic)} at offset ${off}`);
    const field = (/** @type {number} */ i) => parseInt(b.toString("ascii", off + 6 + i * 8, off + 14 + i * 8), 16);
    const mode = field(1);
    const size = field(6);
    const rdev = /** @type {[number, number]} */ ([field(9), field(10)]);
    const namesize = field(11);
    const name = b.toString("utf8", off + 110, off + 110 + namesize - 1);
    const dataStart = align(off + 110 + namesize);
    if (name === "TRAILER!!!") break;
    out.push({ name, mode, data: b.subarray(dataStart, dataStart + size), rdev });
    off = align(dataStart + size);
  }
  return out;
}

/**
 * The initramfs: busybox, /init, the capture script as /capture.sh.
 * @param {{busybox: Uint8Array, captureScript: Uint8Array | string}} input
 * @returns {Buffer} gzip-compressed newc archive
 */
export function buildInitramfs(input) {
  const entries = [
    ...baseEntries(input.busybox),
    { name: "init", type: "file", perm: 0o755, data: INIT_SCRIPT },
    { name: "capture.sh", type: "file", perm: 0o755, data: input.captureScript },
  ];
  return gzipSync(cpioNewc(/** @type {CpioEntry[]} */ (entries)), { level: 6 });
}

/**
 * What every guest's initramfs holds before its /init: busybox as the shell, the two device nodes
 * the console needs, and the folders procfs, sysfs and the capture use.
 * @param {Uint8Array} busybox
 * @returns {CpioEntry[]}
 */
export function baseEntries(busybox) {
  return [
    { name: "bin", type: "dir" },
    { name: "bin/busybox", type: "file", perm: 0o755, data: busybox },
    { name: "bin/sh", type: "symlink", target: "busybox" },
    { name: "dev", type: "dir" },
    { name: "dev/console", type: "char", perm: 0o600, rdev: [5, 1] },
    { name: "dev/null", type: "char", perm: 0o666, rdev: [1, 3] },
    { name: "proc", type: "dir" },
    { name: "sys", type: "dir" },
    { name: "tmp", type: "dir", perm: 0o1777 },
  ];
}

/**
 * @typedef {{ok: true, capture: Buffer, rc: string} | {ok: false, error: string, rc?: string}} SerialCapture
 */

/**
 * Finds the capture in what arrived on the serial console.
 * @param {string} text
 * @returns {SerialCapture}
 */
export function parseSerialCapture(text) {
  const lines = text.split(/\r?\n/).map((l) => l.replace(/\r/g, ""));
  const begin = lines.findIndex((l) => l.startsWith(BEGIN_MARKER));
  if (begin < 0) return { ok: false, error: "no capture on the serial console (the guest did not get to send one)" };
  const header = /** @type {string} */ (lines[begin]);
  const rc = /rc=(\S+)/.exec(header)?.[1] ?? "?";
  const bytes = Number(/bytes=(\d+)/.exec(header)?.[1] ?? NaN);
  const end = lines.findIndex((l, i) => i > begin && l.startsWith(END_MARKER));
  if (end < 0) return { ok: false, rc, error: "capture cut short: no end marker on the serial console" };
  if (rc !== "0") return { ok: false, rc, error: `capture script failed in the guest (exit status ${rc})` };
  const b64 = lines.slice(begin + 1, end).join("").trim();
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return { ok: false, rc, error: "capture garbled: not base64" };
  const capture = Buffer.from(b64, "base64");
  if (capture.length !== bytes) {
    return { ok: false, rc, error: `capture garbled: ${capture.length} bytes decoded, the guest sent ${bytes}` };
  }
  if (capture[0] !== 0x1f || capture[1] !== 0x8b) return { ok: false, rc, error: "capture is not gzip data" };
  return { ok: true, capture, rc };
}
