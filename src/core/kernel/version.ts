/** a kernel release as far as behaviour depends on it */
export interface KernelVersion {
  readonly major: number;
  readonly minor: number;
}

/** the release our oracle cases were recorded with, used when a source does not say */
export const DEFAULT_KERNEL: KernelVersion = { major: 6, minor: 1 };

/** parses `6.1.0-56-amd64`, `5.10`, `v6.12-rc3`; undefined when it is not a version */
export function parseKernelVersion(text: string): KernelVersion | undefined {
  const m = /^v?(\d+)\.(\d+)/.exec(text.trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}

/** negative, zero or positive like a comparator */
export function compareKernel(a: KernelVersion, b: KernelVersion): number {
  return a.major - b.major || a.minor - b.minor;
}

/** true when `v` is at least `major.minor` */
export const atLeast = (v: KernelVersion, major: number, minor: number): boolean => compareKernel(v, { major, minor }) >= 0;

export const formatKernel = (v: KernelVersion): string => `${v.major}.${v.minor}`;
