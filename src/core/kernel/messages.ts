/** English for what depends on the kernel's version: assumptions and version-keyed behaviour */
import { STABLE_FIXES, firstFixedIn } from "./stable-fixes.js";
import { formatKernel } from "./version.js";
import type { KernelVersion } from "./version.js";

const ARITH = STABLE_FIXES.configAcsArithmetic;

export const acsMessages = {
  fixAssumed: (v: KernelVersion): string =>
    `kernel ${formatKernel(v)} without a patch level: assuming ${firstFixedIn(v, ARITH) ?? "a release"} or later, which has the fixed config_acs=/disable_acs_redir= arithmetic (${ARITH.commit} "${ARITH.title}"); give --kernel ${formatKernel(v)}.N to model an earlier one`,
  firmwareCtrlAssumed: (bdfs: readonly string[]): string =>
    `${bdfs.join(", ")}: the firmware's ACS control value is not in the source; assumed 0 (what firmware and QEMU leave), which config_acs=/disable_acs_redir= start from for every flag they do not name`,
  configAcsTooOld: (v: KernelVersion): string => `config_acs= needs kernel 6.11 or later; ignored for ${formatKernel(v)}`,
};

/** why the kernel version is what it is, when a distribution's release string needed reading */
export const releaseMessages = {
  upstreamFrom: (osrelease: string, from: string, v: KernelVersion): string => `kernel ${osrelease} is upstream ${formatKernel(v)} (from its version string: ${from})`,
  patchUnknown: (osrelease: string, v: KernelVersion): string =>
    `kernel ${osrelease} names its ABI, not its stable patch level, and the source has no version string: modelled as ${formatKernel(v)} with the newest stable behaviour of that series`,
};

/** the order of several root buses, which group numbers follow */
export const rootOrderMessages = {
  busNumberOrder: (roots: number, source: string): string =>
    `${roots} root buses, and the ${source === "lspci" ? "lspci text" : "source"} does not show their ACPI host bridges (firmware_node): group numbers assume the kernel scanned them in bus-number order; it scans them in ACPI namespace order, which on multi-socket machines need not follow bus numbers (a capture made with this version of iommu-atlas records it)`,
  mixedHids: (hids: readonly string[]): string =>
    `root buses with different ACPI _HIDs (${hids.join(", ")}): their instance numbers give the namespace order within one _HID only; between them, group numbers assume bus-number order`,
};
