import type { GasImage } from "../switchtec/gas-image.js";
import type { LspciWarning } from "../lspci/warnings.js";
import type { Topology } from "../topology/model.js";

/** what a source says about one machine: the topology plus what the kernel decided and how it was booted */
export interface Snapshot {
  readonly source: "sysfs" | "lspci" | "design";
  readonly topology: Topology;
  /** the kernel's groups: id → member BDFs; undefined when the source has none */
  readonly kernelGroups: ReadonlyMap<number, readonly string[]> | undefined;
  readonly cmdline: string | undefined;
  readonly osrelease: string | undefined;
  readonly acpi: { readonly dmar?: Uint8Array; readonly ivrs?: Uint8Array; readonly iort?: Uint8Array };
  /** architecture and firmware description, as far as the source records them (old captures: none) */
  readonly platform?: Platform;
  /** Switchtec NT functions' BAR0 register images by BDF (capture excerpt or declared partition table) */
  readonly ntb?: ReadonlyMap<string, GasImage>;
  /** notes about the input as a whole (e.g. captured without root) */
  readonly notes: readonly SnapshotNote[];
}

/** what kind of machine the source comes from */
export interface Platform {
  /** `uname -m` (x86_64, aarch64, …), when recorded */
  readonly arch?: string | undefined;
  /** how the firmware describes the machine: ACPI tables, or a device tree (a root `compatible`, no IOMMU ACPI table) */
  readonly firmware?: "acpi" | "devicetree" | undefined;
  /** IOMMU instances the kernel registered (`/sys/class/iommu`), in name order */
  readonly iommus?: readonly string[] | undefined;
  /** loaded modules, oldest first (`/proc/modules` lists the newest first) */
  readonly modules?: readonly string[] | undefined;
  /** module of each bound driver that has one (`sys/bus/pci/drivers/<driver>/module`); built-in drivers have none */
  readonly driverModules?: ReadonlyMap<string, string> | undefined;
}

export type SnapshotNote =
  | { code: "no-pci-devices" }
  | { code: "config-unprivileged"; functions: number }
  | { code: "no-iommu-groups" }
  | { code: "group-link-mismatch"; bdf: string; link: number; listed: number | undefined }
  | { code: "lspci-dumps"; dumps: number; format: string }
  | { code: "lspci"; warning: LspciWarning };
