// The kernel oracle on arm64: Debian's own arm64 kernels (6.1 and 6.12) under
// qemu-system-aarch64 -M virt,iommu=smmuv3 (TCG), booted from the device tree QEMU builds, with
// driver modules from the same kernel package loaded in the guest so that endpoints bind (arm64
// Linux sets a function up for the SMMU only when a driver probes it), optionally SR-IOV VFs on
// QEMU's nvme, then scripts/capture.sh and `iommu-atlas diff`. See README.md beside this file.

import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { mulberry32 } from "./gen.mjs";
import { BEGIN_MARKER, END_MARKER, baseEntries, cpioNewc } from "./initramfs.mjs";

export const ARM64_QEMU = "qemu-system-aarch64";
/** UEFI firmware for an ACPI (IORT) boot, from Debian's qemu-efi-aarch64 */
export const ARM64_UEFI = "/usr/share/qemu-efi-aarch64/QEMU_EFI.fd";

/** the kernels the oracle boots: Debian meta packages (their Depends name the image package) */
export const ARM64_KERNELS = [
  { label: "6.1", meta: "linux-image-arm64" },
  { label: "6.12", meta: "linux-image-6.12-arm64" },
];

/** PCI IDs of the QEMU devices the generator uses, and the module that drives each */
export const MODULE_OF = {
  "0x8086:0x10d3": "e1000e",
  "0x8086:0x100e": "e1000",
  "0x1b36:0x0010": "nvme",
};

/**
 * @typedef {{id: string, driver: string, bus: string, addr?: string, props?: Record<string, string | number>}} Arm64Device
 * @typedef {{name: string, description: string, devices: Arm64Device[], load: string[], vfs: number, acpi?: boolean, kernel_args?: string}} Arm64Topology
 */

/**
 * apt-get download + dpkg-deb -x of one Debian arm64 package into `cache/<pkg>/`, once.
 * @param {string} cache
 * @param {string} pkg
 * @returns {string} the folder the package was unpacked into
 */
function fetchPackage(cache, pkg) {
  const dir = join(cache, pkg);
  if (existsSync(join(dir, ".unpacked"))) return dir;
  mkdirSync(cache, { recursive: true });
  const before = new Set(readdirSync(cache));
  execFileSync("apt-get", ["download", `${pkg}:arm64`], { cwd: cache, stdio: ["ignore", "ignore", "pipe"] });
  const deb = readdirSync(cache).find((f) => f.startsWith(`${pkg}_`) && f.endsWith(".deb") && (!before.has(f) || true));
  if (!deb) throw new Error(`apt-get download ${pkg}:arm64 left no .deb in ${cache}`);
  execFileSync("dpkg-deb", ["-x", join(cache, deb), dir]);
  writeFileSync(join(dir, ".unpacked"), `${deb}\n`);
  return dir;
}

/** the image package a meta package depends on (apt-cache depends; remembered in the cache for 12 hours) */
function resolveMeta(cache, meta) {
  const memo = join(cache, `${meta}.resolved`);
  if (existsSync(memo) && Date.now() - statSync(memo).mtimeMs < 12 * 3600_000) return readFileSync(memo, "utf8").trim();
  const pkg = resolveMetaNow(meta);
  mkdirSync(cache, { recursive: true });
  writeFileSync(memo, `${pkg}\n`);
  return pkg;
}

function resolveMetaNow(meta) {
  const out = execFileSync("apt-cache", ["depends", "--important", `${meta}:arm64`], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const m = /Depends: (linux-image-[^\s:]+)/.exec(out);
  if (!m) throw new Error(`apt-cache depends ${meta}:arm64 names no linux-image package`);
  return m[1];
}

/**
 * Makes sure the arm64 kernels and busybox are unpacked in `cache`: adds the arm64 architecture
 * to dpkg and runs apt-get update when apt does not know arm64 packages yet (root only).
 * @param {string} cache
 * @param {{install: boolean, kernels?: string[]}} o
 * @returns {{kernels: {label: string, pkg: string, root: string, version: string, image: string}[], busybox: string}}
 */
export function ensureArm64(cache, o) {
  const known = () => existsSync(join(cache, "busybox-static", ".unpacked")) || spawnSync("apt-cache", ["show", "busybox-static:arm64"], { stdio: "ignore" }).status === 0;
  if (!known()) {
    if (!o.install || process.getuid?.() !== 0) throw new Error("apt knows no arm64 packages: run as root (dpkg --add-architecture arm64 && apt-get update), or drop --no-install");
    execFileSync("dpkg", ["--add-architecture", "arm64"]);
    execFileSync("apt-get", ["update", "-qq"], { stdio: "ignore" });
  }
  if (spawnSync(ARM64_QEMU, ["--version"], { stdio: "ignore" }).status !== 0) {
    if (!o.install || process.getuid?.() !== 0) throw new Error(`${ARM64_QEMU} is missing: apt-get install qemu-system-arm`);
    execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", "qemu-system-arm"], { stdio: "ignore", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  }
  const wanted = ARM64_KERNELS.filter((k) => !o.kernels || o.kernels.includes(k.label));
  const kernels = wanted.map((k) => {
    const pkg = resolveMeta(cache, k.meta);
    const root = fetchPackage(cache, pkg);
    const version = readdirSync(join(root, "lib/modules"))[0];
    if (!version) throw new Error(`${pkg}: no lib/modules folder`);
    const image = join(root, "boot", `vmlinuz-${version}`);
    if (!existsSync(image)) throw new Error(`${pkg}: no ${image}`);
    return { label: k.label, pkg, root, version, image };
  });
  const bb = fetchPackage(cache, "busybox-static");
  return { kernels, busybox: join(bb, "bin/busybox") };
}

/**
 * The .ko files (decompressed) a module needs, dependencies first, found by name in the
 * package's lib/modules tree and chained through each module's `depends=` modinfo field.
 * @param {string} modulesDir lib/modules/<version>
 * @param {string} name
 * @returns {{name: string, data: Buffer}[]}
 */
export function moduleWithDeps(modulesDir, name) {
  /** @type {Map<string, string>} */
  const index = new Map();
  const walk = (/** @type {string} */ dir) => {
    for (const e of readdirSync(dir)) {
      const p = join(dir, e);
      if (statSync(p).isDirectory()) walk(p);
      else {
        const m = /^(.+)\.ko(\.xz|\.zst|\.gz)?$/.exec(e);
        if (m) index.set(m[1].replace(/-/g, "_"), p);
      }
    }
  };
  walk(join(modulesDir, "kernel"));
  /** @type {{name: string, data: Buffer}[]} */
  const out = [];
  const seen = new Set();
  const add = (/** @type {string} */ mod) => {
    const key = mod.replace(/-/g, "_");
    if (seen.has(key)) return;
    seen.add(key);
    const file = index.get(key);
    if (!file) return; // built into the kernel
    const data = file.endsWith(".xz")
      ? execFileSync("xz", ["-dc", file], { maxBuffer: 1 << 28 })
      : file.endsWith(".zst")
        ? execFileSync("zstd", ["-dc", file], { maxBuffer: 1 << 28 })
        : readFileSync(file);
    const deps = /\0depends=([^\0]*)\0/.exec(data.toString("latin1"))?.[1] ?? "";
    for (const d of deps.split(",").filter(Boolean)) add(d);
    out.push({ name: key, data });
  };
  add(name);
  return out;
}

/**
 * /init of the arm64 guest: loads the modules named by `atlas_load=` when the first function
 * each drives is found (bus order), waits a second for their (asynchronous) probes, enables `atlas_vfs=`
 * VFs on every SR-IOV function, then captures like the x86 guest.
 */
export const ARM64_INIT = `#!/bin/sh
export PATH=/bin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
cd /tmp
load=""
vfs=0
for a in $(cat /proc/cmdline); do
  case $a in
    atlas_load=*) load=\${a#atlas_load=} ;;
    atlas_vfs=*) vfs=\${a#atlas_vfs=} ;;
  esac
done
loaded=" "
for d in /sys/bus/pci/devices/*; do
  m=$(cat /lib/modules/ids 2>/dev/null | sed -n "s/^$(cat $d/vendor):$(cat $d/device) //p")
  [ -n "$m" ] || continue
  case ",$load," in *",$m,"*) ;; *) continue ;; esac
  case $loaded in *" $m "*) continue ;; esac
  for k in $(cat /lib/modules/$m.deps); do insmod /lib/modules/$k.ko >/dev/null 2>&1; done
  loaded="$loaded$m "
done
# nvme probes asynchronously: let the probes of the last module finish
[ "$loaded" = " " ] || sleep 1
if [ "$vfs" -gt 0 ]; then
  for d in /sys/bus/pci/devices/*; do
    [ -f $d/sriov_totalvfs ] && echo $vfs > $d/sriov_numvfs
  done
  sleep 1
fi
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
 * The arm64 initramfs: busybox, /init, capture.sh, and per module `lib/modules/<m>.ko`, a
 * `<m>.deps` list (dependencies first) and an `ids` table (vendor:device → module).
 * @param {{busybox: Uint8Array, captureScript: Uint8Array | string, modules: Record<string, {name: string, data: Buffer}[]>}} input
 */
export function buildArm64Initramfs(input) {
  /** @type {import("./initramfs.mjs").CpioEntry[]} */
  const entries = [
    ...baseEntries(input.busybox),
    { name: "lib", type: "dir" },
    { name: "lib/modules", type: "dir" },
    { name: "init", type: "file", perm: 0o755, data: ARM64_INIT },
    { name: "capture.sh", type: "file", perm: 0o755, data: input.captureScript },
  ];
  const written = new Set();
  for (const [mod, files] of Object.entries(input.modules)) {
    for (const f of files) {
      if (written.has(f.name)) continue;
      written.add(f.name);
      entries.push({ name: `lib/modules/${f.name}.ko`, type: "file", perm: 0o644, data: f.data });
    }
    entries.push({ name: `lib/modules/${mod}.deps`, type: "file", perm: 0o644, data: `${files.map((f) => f.name).join("\n")}\n` });
  }
  const ids = Object.entries(MODULE_OF).map(([id, m]) => `${id} ${m}`).join("\n");
  entries.push({ name: "lib/modules/ids", type: "file", perm: 0o644, data: `${ids}\n` });
  return gzipSync(cpioNewc(entries), { level: 6 });
}

/**
 * A random arm64 topology on QEMU's virt machine: root ports with and without ACS, switches,
 * PCIe-to-PCI bridges with conventional e1000s (StreamID aliases), e1000e and nvme endpoints
 * (some nvme with SR-IOV), integrated endpoints on the root bus; a random subset of the modules
 * is loaded, so some functions stay without a driver.
 * @param {number} seed
 * @returns {Arm64Topology}
 */
export function generateArm64Topology(seed) {
  const rnd = mulberry32(seed);
  const pick = (/** @type {number} */ n) => Math.floor(rnd() * n);
  /** @type {Arm64Device[]} */
  const devices = [];
  let n = 0;
  let serial = 0;
  let vfs = 0;
  const id = (/** @type {string} */ p) => `${p}${n++}`;
  const endpoint = (/** @type {string} */ bus, /** @type {string | undefined} */ addr, sriov = false) => {
    const kind = pick(2) === 0 ? "e1000e" : "nvme";
    if (kind === "nvme") {
      const props = /** @type {Record<string, string | number>} */ ({ serial: `atlas${serial++}` });
      if (sriov) {
        const sub = id("subsys");
        devices.push({ id: sub, driver: "nvme-subsys", bus: "", props: { nqn: `atlas${sub}` } });
        Object.assign(props, { subsys: sub, sriov_max_vfs: 2, sriov_vq_flexible: 4, sriov_vi_flexible: 2, max_ioqpairs: 6, msix_qsize: 8 });
        vfs = 2;
      }
      devices.push({ id: id("nvme"), driver: "nvme", bus, ...(addr && { addr }), props });
    } else devices.push({ id: id("nic"), driver: "e1000e", bus, ...(addr && { addr }) });
  };
  const ports = 1 + pick(3);
  let slot = 1;
  for (let p = 0; p < ports; p++) {
    const rp = id("rp");
    devices.push({ id: rp, driver: "pcie-root-port", bus: "pcie.0", addr: `${(slot++).toString(16)}.0`, ...(pick(3) === 0 && { props: { "disable-acs": "on" } }) });
    switch (pick(4)) {
      case 0: {
        const up = id("up");
        devices.push({ id: up, driver: "x3130-upstream", bus: rp });
        for (let d = 0, dn = 1 + pick(2); d < dn; d++) {
          const dp = id("dp");
          devices.push({ id: dp, driver: "xio3130-downstream", bus: up, addr: `${d.toString(16)}.0` });
          endpoint(dp, undefined);
        }
        break;
      }
      case 1: {
        const br = id("br");
        devices.push({ id: br, driver: "pcie-pci-bridge", bus: rp });
        for (let c = 1, cn = 1 + pick(2); c <= cn; c++) devices.push({ id: id("pci"), driver: "e1000", bus: br, addr: `${(c + pick(2)).toString(16)}.0` });
        break;
      }
      case 2:
        endpoint(rp, undefined, vfs === 0 && pick(2) === 0);
        break;
      default:
        endpoint(rp, undefined);
    }
  }
  if (pick(2) === 0) endpoint("pcie.0", `${(slot++).toString(16)}.0`);
  // unique addresses below a pcie-pci-bridge
  const seen = new Set();
  for (const d of devices) {
    if (d.driver !== "e1000") continue;
    while (seen.has(`${d.bus}/${d.addr}`)) d.addr = `${(parseInt(d.addr ?? "0", 16) + 1).toString(16)}.0`;
    seen.add(`${d.bus}/${d.addr}`);
  }
  const mods = ["e1000e", "e1000", "nvme"].filter(() => pick(5) !== 0);
  return {
    name: `arm64-${seed}`,
    description: `seed ${seed}: ${devices.filter((d) => d.driver !== "nvme-subsys").length} devices, modules ${mods.join(",") || "none"}${vfs ? `, ${vfs} VFs` : ""}`,
    devices,
    load: mods,
    vfs,
  };
}

/** -device values, with unique chassis/slot numbers for the ports */
export function arm64DeviceArgs(/** @type {Arm64Topology} */ t) {
  let chassis = 0;
  return t.devices.map((d) => {
    const parts = [d.driver, `id=${d.id}`];
    if (d.bus !== "") parts.push(`bus=${d.bus}`);
    if (d.addr !== undefined) parts.push(`addr=${d.addr}`);
    const props = { ...(d.props ?? {}) };
    if (d.driver === "pcie-root-port" || d.driver === "xio3130-downstream") {
      chassis++;
      props.chassis ??= chassis;
      props.slot ??= chassis;
    }
    if ((d.driver === "e1000" || d.driver === "e1000e") && props.romfile === undefined) props.romfile = "";
    for (const [k, v] of Object.entries(props)) parts.push(`${k}=${v}`);
    return parts.join(",");
  });
}

/** the guest's kernel command line */
export function arm64Cmdline(/** @type {Arm64Topology} */ t) {
  const base = `console=ttyAMA0 panic=-1 quiet atlas_load=${t.load.join(",") || "none"} atlas_vfs=${t.vfs}`;
  const acpi = t.acpi ? " acpi=force" : "";
  return `${base}${acpi}${t.kernel_args ? ` ${t.kernel_args}` : ""}`;
}

/**
 * Arguments for qemu-system-aarch64 (without the program name).
 * @param {Arm64Topology} t
 * @param {{kernel: string, initrd: string, consoleLog: string}} o
 */
export function arm64QemuArgs(t, o) {
  const args = [
    "-M", "virt,iommu=smmuv3",
    "-cpu", "cortex-a57",
    "-accel", "tcg",
    "-m", "512",
    "-smp", "1",
    "-nodefaults",
    "-no-user-config",
    "-display", "none",
    "-no-reboot",
    ...(t.acpi ? ["-bios", ARM64_UEFI] : []),
    "-kernel", o.kernel,
    "-initrd", o.initrd,
    "-append", arm64Cmdline(t),
    "-serial", `file:${o.consoleLog}`,
  ];
  for (const dev of arm64DeviceArgs(t)) args.push("-device", dev);
  return args;
}
