import type { AcsEffect, AcsEnableEffect, IdSet, QuirkRow } from "./row.js";

const ACS_TABLE = "torvalds/linux drivers/pci/quirks.c pci_dev_acs_enabled[]";
const ACS_OPS = "torvalds/linux drivers/pci/quirks.c pci_dev_acs_ops[]";

/*
 * Device ids that some ACS quirk functions test themselves. Their rows match
 * the whole vendor (as the kernel's do), so the row's position in the table
 * stays what decides; these lists decide whether the function has an opinion.
 */

/** Intel PCH root ports without an ACS capability whose isolation the PCH workaround provides */
export const INTEL_PCH_ROOT_PORTS: IdSet = [
  { from: 0x3b42, to: 0x3b51 }, // Ibexpeak
  { from: 0x1c10, to: 0x1c1f }, // Cougarpoint
  { from: 0x1e10, to: 0x1e1f }, // Pantherpoint
  { from: 0x8c10, to: 0x8c1f }, // Lynxpoint-H
  { from: 0x9c10, to: 0x9c1b }, // Lynxpoint-LP
  { from: 0x9c90, to: 0x9c9b }, // Wildcat
  0x1d10, 0x1d12, 0x1d14, 0x1d16, 0x1d18, 0x1d1a, 0x1d1c, 0x1d1e, // Patsburg (X79)
  { from: 0x8d10, to: 0x8d1e }, // Wellsburg (X99)
  0x8c90, 0x8c92, 0x8c94, 0x8c96, 0x8c98, 0x8c9a, 0x8c9c, 0x8c9e, // 9 series
];

/** Intel Sunrise Point family root ports whose ACS control sits at cap+0x08 */
export const INTEL_SPT_ROOT_PORTS: IdSet = [
  { from: 0xa110, to: 0xa11f }, // Sunrise Point
  { from: 0xa167, to: 0xa16a }, // Sunrise Point
  { from: 0xa290, to: 0xa29f }, // Union Point
  { from: 0xa2e7, to: 0xa2ee }, // Union Point
  { from: 0x9d10, to: 0x9d1b }, // 7th/8th gen mobile
];

/** Cavium root ports that isolate without an ACS capability */
export const CAVIUM_ROOT_PORTS: IdSet = [
  { from: 0xa000, to: 0xa7ff }, // ThunderX1
  0xaf84, // ThunderX2
  0xb884, // ThunderX3
];

/** Zhaoxin root/downstream ports that isolate; other Zhaoxin ports do not */
export const ZHAOXIN_ISOLATED_PORTS: IdSet = [{ from: 0x0710, to: 0x071e }, 0x0721, { from: 0x0723, to: 0x0752 }];

/** Wangxun NICs whose functions are isolated; other Wangxun devices are not */
export const WANGXUN_ISOLATED_NICS: IdSet = [{ from: 0x0100, to: 0x010f }, 0x1001, 0x2001];

const row = (
  id: string,
  vendor: number | "any",
  device: number | "any" | readonly number[],
  fn: AcsEffect["fn"],
  reason: string,
): QuirkRow<AcsEffect> => ({
  id,
  match: { vendor, device },
  pass: "lookup",
  effect: { kind: "acs", fn },
  reason,
  ref: `${ACS_TABLE} (${fn})`,
});

const INTEL = 0x8086;

/*
 * "Is ACS effectively on" table (spec §4.5, as of v6.10).
 * Hardware that isolates its functions or ports without advertising a
 * usable ACS capability, and a few vendors whose parts are known not to
 * isolate. The kernel walks the rows in order and the first row whose
 * function gives an answer wins; a function may decline (no opinion), and
 * the walk goes on. Order is significant: the Intel multifunction NICs come
 * before the Intel-wide RCiEP, PCH and SPT rows, and the Zhaoxin and Wangxun
 * vendor-wide rows answer a definite "no" that hides every later row.
 */
const MAINLINE_ROWS: readonly QuirkRow<AcsEffect>[] = [
  row("acs-amd-sb/ati", 0x1002, [0x4385, 0x439c, 0x4383, 0x439d, 0x4384, 0x4399], "amd_sb",
    "AMD/ATI southbridge functions on the root bus block peer-to-peer when an IVRS table exists"),
  row("acs-amd-sb/amd", 0x1022, [0x780f, 0x7809], "amd_sb",
    "AMD southbridge functions on the root bus block peer-to-peer when an IVRS table exists"),
  row("acs-mf-endpoint/solarflare", 0x1924, [0x0903, 0x0923, 0x0a03], "mf_endpoint",
    "Solarflare multifunction NICs do no peer-to-peer between functions"),
  row("acs-mf-endpoint/intel-82598-82599-x540", INTEL,
    [0x10c6, 0x10db, 0x10dd, 0x10e1, 0x10f1, 0x10f7, 0x10f8, 0x10f9, 0x10fa, 0x10fb, 0x10fc, 0x1507, 0x1514, 0x151c,
      0x1529, 0x152a, 0x154d, 0x154f, 0x1551, 0x1558],
    "mf_endpoint", "Intel 82598/82599/X540 functions do no internal peer-to-peer"),
  row("acs-mf-endpoint/intel-82580", INTEL, [0x1509, 0x150e, 0x150f, 0x1510, 0x1511, 0x1516, 0x1527], "mf_endpoint",
    "Intel 82580 functions do no internal peer-to-peer"),
  row("acs-mf-endpoint/intel-82576", INTEL, [0x10c9, 0x10e6, 0x10e7, 0x10e8, 0x150a, 0x150d, 0x1518, 0x1526], "mf_endpoint",
    "Intel 82576 functions do no internal peer-to-peer"),
  row("acs-mf-endpoint/intel-82575", INTEL, [0x10a7, 0x10a9, 0x10d6], "mf_endpoint",
    "Intel 82575 functions do no internal peer-to-peer"),
  row("acs-mf-endpoint/intel-i350", INTEL, [0x1521, 0x1522, 0x1523, 0x1524], "mf_endpoint",
    "Intel I350 functions do no internal peer-to-peer"),
  row("acs-mf-endpoint/intel-82571", INTEL, [0x105e, 0x105f, 0x1060, 0x10d9], "mf_endpoint",
    "Intel 82571 (not the quad-port parts) functions do no internal peer-to-peer"),
  row("acs-mf-endpoint/intel-i219", INTEL, [0x15b7, 0x15b8], "mf_endpoint",
    "Intel I219 functions do no internal peer-to-peer"),
  row("acs-rciep/intel", INTEL, "any", "rciep",
    "Intel root complex integrated endpoints cannot reach each other without going through the IOMMU"),
  row("acs-qcom-rp/qualcomm-qdf2xxx", 0x17cb, [0x0400, 0x0401], "qcom_rp",
    "Qualcomm QDF2xxx root ports isolate though they lack an ACS capability"),
  row("acs-qcom-rp/hxt-sd4800", 0x1dbf, 0x0401, "qcom_rp",
    "HXT SD4800 root ports isolate though they lack an ACS capability"),
  row("acs-intel-pch/intel", INTEL, "any", "intel_pch",
    "Intel PCH root ports isolate only after the boot-time PCH workaround succeeded"),
  row("acs-intel-spt-pch/intel", INTEL, "any", "intel_spt_pch",
    "Intel Sunrise Point family root ports keep ACS control 2 bytes later than the spec"),
  row("acs-mf-endpoint/emulex-be3r", 0x19a2, 0x0710, "mf_endpoint",
    "Emulex BE3-R functions do no internal peer-to-peer"),
  row("acs-mf-endpoint/emulex-skyhawk-r", 0x10df, 0x0720, "mf_endpoint",
    "Emulex Skyhawk-R functions do no internal peer-to-peer"),
  row("acs-cavium/cavium", 0x177d, "any", "cavium",
    "Cavium ThunderX root ports isolate though they lack an ACS capability"),
  row("acs-mf-endpoint/cavium", 0x177d, [0xa026, 0xa059, 0xa060], "mf_endpoint",
    "Cavium multifunction devices do no internal peer-to-peer"),
  row("acs-xgene/apm-xgene", 0x10e8, 0xe004, "xgene",
    "APM X-Gene root ports isolate though they lack an ACS capability"),
  row("acs-xgene/ampere", 0x1def, [0xe005, 0xe006, 0xe007, 0xe008, 0xe009, 0xe00a, 0xe00b, 0xe00c], "xgene",
    "Ampere root ports isolate though they lack an ACS capability"),
  row("acs-mf-endpoint/broadcom", 0x14e4, [0x16d7, 0x1750, 0x1751, 0x1752], "mf_endpoint",
    "Broadcom multifunction NICs do no internal peer-to-peer"),
  row("acs-brcm/broadcom-iproc-paxb", 0x14e4, 0xd714, "brcm",
    "Broadcom iProc PAXB root ports isolate though they lack an ACS capability"),
  row("acs-al/annapurna", 0x1c36, 0x0031, "al",
    "Amazon Annapurna Labs root ports isolate though they lack an ACS capability"),
  row("acs-mf-endpoint/zhaoxin", 0x1d17, [0x3038, 0x3104, 0x9083], "mf_endpoint",
    "Zhaoxin multifunction devices do no internal peer-to-peer"),
  row("acs-nxp-rp/nxp-lx2xxx", 0x1957,
    [
      0x8d81, 0x8da1, 0x8d83, // LX2xx0A
      0x8d80, 0x8da0, 0x8d82, // LX2xx0C
      0x8d90, 0x8db0, 0x8d92, // LX2xx0E
      0x8d91, 0x8db1, 0x8d93, // LX2xx0N
      0x8d89, 0x8da9, 0x8d8b, // LX2xx2A
      0x8d88, 0x8da8, 0x8d8a, // LX2xx2C
      0x8d98, 0x8db8, 0x8d9a, // LX2xx2E
      0x8d99, 0x8db9, 0x8d9b, // LX2xx2N
    ],
    "nxp_rp", "NXP LX2xxx root ports isolate though they lack an ACS capability"),
  row("acs-zhaoxin-ports/zhaoxin", 0x1d17, "any", "zhaoxin_ports",
    "Zhaoxin root/downstream ports: listed ones isolate, every other one is a definite no"),
  row("acs-wangxun-nic/wangxun", 0x8088, "any", "wangxun_nic",
    "Wangxun NICs: listed ones isolate, every other Wangxun device is a definite no"),
];

/*
 * pcie_acs_override (out of tree).
 * A patch carried by Arch, Proxmox, unRAID and similar kernels lets the
 * admin declare ports, multifunction devices or ids isolated when they have
 * no ACS capability. It is appended after every mainline row, so any earlier
 * answer (including a definite no) wins. Only consulted when the option is set.
 */
const OVERRIDE_ROW: QuirkRow<AcsEffect> = {
  id: "acs-override/pcie-acs-override",
  match: { vendor: "any", device: "any" },
  pass: "lookup",
  effect: { kind: "acs", fn: "acs_override" },
  reason: "admin option pcie_acs_override= declares devices without an ACS capability isolated",
  ref: "out-of-tree pcie_acs_override patch (Arch/Proxmox/unRAID kernels), not in torvalds/linux",
};

/** the §4.5 table in kernel order, then the out-of-tree override as the last row */
export const ACS_QUIRK_ROWS: readonly QuirkRow<AcsEffect>[] = [...MAINLINE_ROWS, OVERRIDE_ROW];

/*
 * Boot-time ACS enable hooks (spec §4.6).
 * Intel PCH root ports have no ACS capability; the PCH workaround turns off
 * peer decode in the chipset (through RCBA) and sets source validation in the
 * port instead. Sunrise Point ports have the capability but with the control
 * register moved, so the standard enabling would write the wrong place. In
 * both cases the hook replaces the standard enabling. Tried in order.
 */
/** the §4.6 enable hooks in kernel order */
export const ACS_ENABLE_ROWS: readonly QuirkRow<AcsEnableEffect>[] = [
  {
    id: "acs-enable-intel-pch/intel",
    match: { vendor: INTEL, device: "any" },
    pass: "lookup",
    effect: { kind: "acs-enable", hook: "intel_pch" },
    reason: "PCH root ports: disable chipset peer decode via RCBA and set source validation in MPC",
    ref: `${ACS_OPS} (intel_pch enable)`,
  },
  {
    id: "acs-enable-intel-spt-pch/intel",
    match: { vendor: INTEL, device: "any" },
    pass: "lookup",
    effect: { kind: "acs-enable", hook: "intel_spt_pch" },
    reason: "Sunrise Point root ports: enable ACS in the control dword at cap+0x08",
    ref: `${ACS_OPS} (intel_spt_pch enable, redirect disable)`,
  },
];
