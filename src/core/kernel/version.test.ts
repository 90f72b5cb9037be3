import { describe, expect, it } from "vitest";
import { STABLE_FIXES, firstFixedIn, hasStableFix } from "./stable-fixes.js";
import { compareKernel, formatKernel, kernelWithoutGroups, parseKernelRelease, parseKernelVersion } from "./version.js";

describe("kernel versions to the stable patch level", () => {
  it("parses a version with and without its patch level", () => {
    expect(parseKernelVersion("6.12.118")).toEqual({ major: 6, minor: 12, patch: 118 });
    expect(parseKernelVersion("6.12")).toEqual({ major: 6, minor: 12 });
    expect(parseKernelVersion("v6.12-rc3")).toEqual({ major: 6, minor: 12 });
    expect(parseKernelVersion("6.12.118+deb12-amd64")).toEqual({ major: 6, minor: 12, patch: 118 });
    expect(parseKernelVersion("linux")).toBeUndefined();
    expect(parseKernelVersion("6.12.1.1")).toBeUndefined();
  });

  it("compares and prints the patch level", () => {
    expect(compareKernel({ major: 6, minor: 12, patch: 23 }, { major: 6, minor: 12, patch: 118 })).toBeLessThan(0);
    expect(compareKernel({ major: 6, minor: 13 }, { major: 6, minor: 12, patch: 118 })).toBeGreaterThan(0);
    expect(formatKernel({ major: 6, minor: 12, patch: 118 })).toBe("6.12.118");
    expect(formatKernel({ major: 6, minor: 1 })).toBe("6.1");
  });

  it("reads Debian's backports naming, where the third number is the stable level", () => {
    expect(parseKernelRelease("6.12.118+deb12-amd64")).toEqual({ version: { major: 6, minor: 12, patch: 118 } });
    expect(parseKernelRelease("6.12.38+deb13-amd64")?.version.patch).toBe(38);
  });

  it("reads Debian's ABI naming: the stable level comes from the version string, else stays unknown", () => {
    const r = parseKernelRelease("6.1.0-37-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.140-1 (2025-05-22)");
    expect(r?.version).toEqual({ major: 6, minor: 1, patch: 140 });
    expect(r?.upstreamFrom).toBe("Debian 6.1.140-1");
    expect(parseKernelRelease("6.1.0-56-amd64")?.version).toEqual({ major: 6, minor: 1 });
    // a version string of another series is not taken
    expect(parseKernelRelease("6.1.0-37-amd64", "#1 SMP Debian 6.12.118-1")?.version.patch).toBeUndefined();
  });

  it("reads Ubuntu's version signature", () => {
    const r = parseKernelRelease("5.15.0-91-generic", "#101-Ubuntu SMP Tue Nov 14 13:30:08 UTC 2023\nUbuntu 5.15.0-91.101-generic 5.15.131");
    expect(r?.version).toEqual({ major: 5, minor: 15, patch: 131 });
  });

  it("names Red Hat kernels, whose version does not follow their backports", () => {
    const r = parseKernelRelease("5.14.0-427.13.1.el9_4.x86_64");
    expect(r?.version).toEqual({ major: 5, minor: 14 });
    expect(r?.distro?.name).toBe("Red Hat");
  });

  it("keeps plain upstream releases as they are", () => {
    expect(parseKernelRelease("6.8.9-300.fc40.x86_64")?.version).toEqual({ major: 6, minor: 8, patch: 9 });
    expect(parseKernelRelease("6.9.3-arch1-1")?.version).toEqual({ major: 6, minor: 9, patch: 3 });
  });
});

describe("releases before IOMMU groups", () => {
  it("are refused with the release that brought them, from 3.5 on nothing is", () => {
    expect(kernelWithoutGroups(parseKernelVersion("2.6.32")!)).toBe("Linux 2.6.32 has no IOMMU groups (they came with 3.5); pass 3.5 or later");
    expect(kernelWithoutGroups(parseKernelVersion("3.4")!)).toMatch(/^Linux 3\.4 has no IOMMU groups/);
    for (const v of ["3.5", "3.10.0", "4.0", "6.12.118", "99.0"]) expect(kernelWithoutGroups(parseKernelVersion(v)!), v).toBeUndefined();
  });
});

describe("stable fixes keyed by full version", () => {
  const arith = STABLE_FIXES.configAcsArithmetic;
  const v = (major: number, minor: number, patch?: number) => ({ major, minor, ...(patch !== undefined && { patch }) });
  it("config_acs arithmetic: per series, the first stable release with the backport", () => {
    expect(hasStableFix(v(6, 10, 14), arith)).toBe("n/a");
    expect(hasStableFix(v(6, 11, 11), arith)).toBe("no");
    expect(hasStableFix(v(6, 12, 22), arith)).toBe("no");
    expect(hasStableFix(v(6, 12, 23), arith)).toBe("yes");
    expect(hasStableFix(v(6, 12, 118), arith)).toBe("yes");
    expect(hasStableFix(v(6, 12), arith)).toBe("unknown");
    expect(hasStableFix(v(6, 13, 10), arith)).toBe("no");
    expect(hasStableFix(v(6, 13, 11), arith)).toBe("yes");
    expect(hasStableFix(v(6, 14, 1), arith)).toBe("no");
    expect(hasStableFix(v(6, 14, 2), arith)).toBe("yes");
    expect(hasStableFix(v(6, 15), arith)).toBe("yes");
    expect(firstFixedIn(v(6, 12), arith)).toBe("6.12.23");
    expect(firstFixedIn(v(6, 11), arith)).toBeUndefined();
  });

  it("ACS quirk enabling: 6.11.7 and 6.12.0 on", () => {
    const q = STABLE_FIXES.acsQuirkEnable;
    expect(hasStableFix(v(6, 11, 6), q)).toBe("no");
    expect(hasStableFix(v(6, 11, 7), q)).toBe("yes");
    expect(hasStableFix(v(6, 12, 0), q)).toBe("yes");
    expect(hasStableFix(v(6, 6, 60), q)).toBe("n/a");
  });

  it("every fix cites where it can be checked", () => {
    for (const f of Object.values(STABLE_FIXES)) {
      expect(f.commit).toMatch(/^[0-9a-f]{12}$/);
      expect(f.sources.length).toBeGreaterThan(0);
      expect(f.where).toMatch(/\(\) in drivers\//);
    }
  });
});
