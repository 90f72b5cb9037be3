/** a kernel release as far as behaviour depends on it */
export interface KernelVersion {
  readonly major: number;
  readonly minor: number;
  /**
   * the stable patch level (6.12.118 → 118); undefined when the source does
   * not show it (`--kernel 6.12`, Debian's `6.1.0-37-amd64` without its
   * version string)
   */
  readonly patch?: number | undefined;
}

/** the release our oracle cases were recorded with, used when a source does not say */
export const DEFAULT_KERNEL: KernelVersion = { major: 6, minor: 1 };

/**
 * parses `6.12.118`, `6.12.118+deb12-amd64`, `5.10`, `v6.12-rc3`; undefined
 * when it is not a version. A third number is taken as the patch level; use
 * parseKernelRelease for an `osrelease`, where it may be a distribution's ABI
 * number instead.
 */
export function parseKernelVersion(text: string): KernelVersion | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?(?![\d.])/.exec(text.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), ...(m[3] !== undefined && { patch: Number(m[3]) }) };
}

/** the first release with IOMMU groups (Linux 3.5, 2012): there is nothing to predict before it */
export const FIRST_GROUPS_KERNEL: KernelVersion = { major: 3, minor: 5 };

/** why `v` cannot be predicted (a release before IOMMU groups existed), or undefined */
export function kernelWithoutGroups(v: KernelVersion): string | undefined {
  if (atLeast(v, FIRST_GROUPS_KERNEL.major, FIRST_GROUPS_KERNEL.minor)) return undefined;
  return `Linux ${formatKernel(v)} has no IOMMU groups (they came with ${formatKernel(FIRST_GROUPS_KERNEL)}); pass ${formatKernel(FIRST_GROUPS_KERNEL)} or later`;
}

/** negative, zero or positive like a comparator; an unknown patch level counts as 0 */
export function compareKernel(a: KernelVersion, b: KernelVersion): number {
  return a.major - b.major || a.minor - b.minor || (a.patch ?? 0) - (b.patch ?? 0);
}

/** true when `v` is at least `major.minor` (the patch level does not matter) */
export const atLeast = (v: KernelVersion, major: number, minor: number): boolean => v.major > major || (v.major === major && v.minor >= minor);

export const formatKernel = (v: KernelVersion): string => (v.patch === undefined ? `${v.major}.${v.minor}` : `${v.major}.${v.minor}.${v.patch}`);

/** what a distribution's release string says beyond the upstream version */
export interface KernelRelease {
  readonly version: KernelVersion;
  /** e.g. "Debian 6.1.140-1": where the patch level came from when the release string hides it */
  readonly upstreamFrom?: string | undefined;
  /** a distribution kernel whose behaviour follows its own backports more than its upstream version */
  readonly distro?: { readonly name: string; readonly note: string } | undefined;
}

/**
 * Reads a kernel's `osrelease` (`uname -r`) together with, when captured, its
 * version string (`/proc/sys/kernel/version`, `/proc/version`, Ubuntu's
 * `/proc/version_signature`).
 *
 * Debian (up to bookworm's 6.1) and Ubuntu name their kernels by ABI:
 * `6.1.0-37-amd64`, `5.15.0-91-generic`. The `.0` is not the stable patch
 * level; that one is in the version string (`… Debian 6.1.140-1 (2025-05-22)`,
 * `Ubuntu 5.15.0-91.101-generic 5.15.131`). Without it the patch level stays
 * unknown. Red Hat's `5.14.0-427.el9` keeps its base version for the whole
 * release and carries fixes as backports: the version says little there.
 */
export function parseKernelRelease(osrelease: string, versionText?: string): KernelRelease | undefined {
  // a fleet predicts thousands of captures of a few kernels
  const key = `${osrelease}\u0000${versionText ?? ""}`;
  if (releases.has(key)) return releases.get(key);
  const release = readKernelRelease(osrelease, versionText);
  if (releases.size >= 256) releases.clear();
  releases.set(key, release);
  return release;
}

const releases = new Map<string, KernelRelease | undefined>();

function readKernelRelease(osrelease: string, versionText?: string): KernelRelease | undefined {
  const base = parseKernelVersion(osrelease);
  if (!base) return undefined;
  const text = versionText ?? "";
  const abi = /^\d+\.\d+\.0-\d+(?:\.\d+)*-[a-z]/.test(osrelease.trim());
  const rhel = /\.el\d+/.exec(osrelease);
  if (rhel) {
    return {
      version: { major: base.major, minor: base.minor },
      distro: { name: "Red Hat", note: `${osrelease.trim()} is a Red Hat Enterprise Linux kernel: its base version stays ${base.major}.${base.minor}.0 while fixes arrive as backports, so behaviour that changed in stable releases is not keyed by its version` },
    };
  }
  if (!abi) return { version: base };
  const mm = `${base.major}\\.${base.minor}`;
  const debian = new RegExp(`\\bDebian (${mm}\\.(\\d+))-\\S+`).exec(text);
  if (debian) return { version: { major: base.major, minor: base.minor, patch: Number(debian[2]) }, upstreamFrom: debian[0] };
  const ubuntu = new RegExp(`^Ubuntu \\S+ (${mm}\\.(\\d+))\\b`, "m").exec(text);
  if (ubuntu) return { version: { major: base.major, minor: base.minor, patch: Number(ubuntu[2]) }, upstreamFrom: ubuntu[0] };
  return { version: { major: base.major, minor: base.minor } };
}
