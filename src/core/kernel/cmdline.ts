/**
 * The kernel parameters that change aliases, ACS and groups
 * (kernel-spec §4.4.1, §4.7). Unrelated parameters are ignored.
 */
export interface KernelParams {
  /** `pci=disable_acs_redir=` device list */
  readonly disableAcsRedir: string | undefined;
  /** `pci=config_acs=` entries */
  readonly configAcs: string | undefined;
  /** out-of-tree `pcie_acs_override=` value */
  readonly pcieAcsOverride: string | undefined;
  /** `intel_iommu=off`, `amd_iommu=off` or `iommu=off`: no translation, no groups */
  readonly iommuOff: boolean;
  /** `pci=pcie_scan_all`: every device number below a root or downstream port is scanned */
  readonly pcieScanAll: boolean;
  readonly raw: string;
}

function splitWords(cmdline: string): string[] {
  const words: string[] = [];
  let cur = "";
  let quoted = false;
  for (const ch of cmdline.trim()) {
    if (ch === '"') quoted = !quoted;
    else if (/\s/.test(ch) && !quoted) {
      if (cur) words.push(cur);
      cur = "";
    } else cur += ch;
  }
  if (cur) words.push(cur);
  return words;
}

/** reads a `/proc/cmdline` text; the last occurrence of a parameter wins, as with the kernel's parser */
export function parseCmdline(cmdline: string): KernelParams {
  let disableAcsRedir: string | undefined;
  let configAcs: string | undefined;
  let pcieAcsOverride: string | undefined;
  let iommuOff = false;
  let pcieScanAll = false;
  for (const word of splitWords(cmdline)) {
    const eq = word.indexOf("=");
    const key = eq < 0 ? word : word.slice(0, eq);
    const value = eq < 0 ? "" : word.slice(eq + 1);
    if (key === "pci") {
      // pci= options are split on ',' first (pci_setup), so device lists inside use ';'
      for (const opt of value.split(",")) {
        if (opt.startsWith("disable_acs_redir=")) disableAcsRedir = opt.slice("disable_acs_redir=".length);
        else if (opt.startsWith("config_acs=")) configAcs = opt.slice("config_acs=".length);
        else if (opt === "pcie_scan_all") pcieScanAll = true;
      }
    } else if (key === "pcie_acs_override") pcieAcsOverride = value;
    else if ((key === "intel_iommu" || key === "amd_iommu") && value.split(",").includes("off")) iommuOff = true;
    else if (key === "iommu" && value === "off") iommuOff = true;
  }
  return { disableAcsRedir, configAcs, pcieAcsOverride, iommuOff, pcieScanAll, raw: cmdline.trim() };
}
