import type { KernelVersion } from "./version.js";

/**
 * A kernel change that reached stable series after its mainline release:
 * behaviour that depends on it is keyed by the full version. Each entry
 * names the upstream commit, the first mainline release with it and, per
 * stable series, the first stable release with the backport (from the
 * stable review postings on stable@vger.kernel.org).
 */
export interface StableFix {
  readonly id: string;
  /** upstream commit subject and id, file and function */
  readonly title: string;
  readonly commit: string;
  readonly where: string;
  /** the release that brought the behaviour being fixed */
  readonly since: readonly [number, number];
  /** the first mainline release with the fix */
  readonly mainline: readonly [number, number];
  /** `major.minor` → first stable patch level with the fix; series not listed never got it */
  readonly stable: Readonly<Record<string, number>>;
  /** where the facts can be checked */
  readonly sources: readonly string[];
}

export const STABLE_FIXES = {
  /**
   * `pci=config_acs=` and `pci=disable_acs_redir=` computed
   * `(ctrl & ~mask) | (fw_ctrl & mask) | flags`: every bit the parameter did
   * not name came out set (disable_acs_redir gave 0xffd3-style values) and a
   * second config_acs entry failed to parse. Fixed to
   * `(fw_ctrl & ~mask) | (flags & mask)`: unnamed bits take the firmware's
   * value, and the kernel's own enabling is dropped for that device.
   */
  configAcsArithmetic: {
    id: "config-acs-arithmetic",
    title: "PCI/ACS: Fix 'pci=config_acs=' parameter",
    commit: "9cf8a952d57b",
    where: "__pci_config_acs() in drivers/pci/pci.c",
    since: [6, 11],
    mainline: [6, 15],
    // 6.11.y ended at 6.11.11 (December 2024) without it
    stable: { "6.12": 23, "6.13": 11, "6.14": 2 },
    sources: [
      "https://lore.kernel.org/r/20250207030338.456887-1-tdave@nvidia.com",
      "stable review postings of 8 April 2025: 6.12.23-rc1 (patch 064/423), 6.13.11-rc1 (080/499), 6.14.2-rc1 (294/731)",
    ],
  },
  /**
   * 6.11's rework called the device-specific ACS enable hook only for devices
   * with a standard ACS capability, so Intel PCH root ports (which have none
   * and rely on the hook) lost isolation.
   */
  acsQuirkEnable: {
    id: "acs-quirk-enable",
    title: "PCI: Fix pci_enable_acs() support for the ACS quirks",
    commit: "f3c3ccc4fe49",
    where: "pci_enable_acs() in drivers/pci/pci.c",
    since: [6, 11],
    // merged for 6.12-rc6 (pci-v6.12-fixes-2), so 6.12.0 has it
    mainline: [6, 12],
    stable: { "6.11": 7 },
    sources: ["pci-v6.12-fixes-2 pull (29 October 2024)", "stable review posting of 6 November 2024: 6.11.7-rc1 (patch 077/245)"],
  },
} as const satisfies Record<string, StableFix>;

/**
 * Whether kernel `v` has `fix`: "n/a" before the behaviour existed,
 * "unknown" in a stable series that got the backport when the patch level
 * is not known.
 */
export function hasStableFix(v: KernelVersion, fix: StableFix): "yes" | "no" | "unknown" | "n/a" {
  const cmp = (a: readonly [number, number]): number => v.major - a[0] || v.minor - a[1];
  if (cmp(fix.since) < 0) return "n/a";
  if (cmp(fix.mainline) >= 0) return "yes";
  const first = fix.stable[`${v.major}.${v.minor}`];
  if (first === undefined) return "no";
  if (v.patch === undefined) return "unknown";
  return v.patch >= first ? "yes" : "no";
}

/** the first stable release of `v`'s series with `fix`, e.g. "6.12.23"; undefined when the series never got it */
export function firstFixedIn(v: KernelVersion, fix: StableFix): string | undefined {
  const series = `${v.major}.${v.minor}`;
  const first = fix.stable[series];
  return first === undefined ? undefined : `${series}.${first}`;
}
