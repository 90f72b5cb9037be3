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
  /** the kernel's version string (`/proc/sys/kernel/version`, Ubuntu's `/proc/version_signature`), which names the upstream release of distribution kernels */
  readonly kernelVersion?: string | undefined;
  readonly acpi: { readonly dmar?: Uint8Array; readonly ivrs?: Uint8Array; readonly iort?: Uint8Array };
  /** architecture and firmware description, as far as the source records them (old captures: none) */
  readonly platform?: Platform;
  /** Switchtec NT functions' BAR0 register images by BDF (capture excerpt or declared partition table) */
  readonly ntb?: ReadonlyMap<string, GasImage>;
  /**
   * each root bus's ACPI host bridge (`sys/devices/pciDDDD:BB/firmware_node`)
   * by bus key `dddd:bb`; undefined when the source does not show them
   */
  readonly rootBuses?: ReadonlyMap<string, RootBusAcpi>;
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

/** a root bus's ACPI host bridge: the kernel enumerates root buses in ACPI namespace order */
export interface RootBusAcpi {
  /** the ACPI device's name, e.g. `PNP0A08:01`: its instance number counts devices of that _HID in namespace order */
  readonly node: string;
  readonly hid: string;
  readonly instance: number;
  /** _UID */
  readonly uid: string | undefined;
  /** namespace path, e.g. `\_SB_.PC40` */
  readonly path: string | undefined;
}

export type SnapshotNote =
  | { code: "no-pci-devices" }
  | { code: "config-unprivileged"; functions: number }
  | { code: "no-iommu-groups" }
  | { code: "group-link-mismatch"; bdf: string; link: number; listed: number | undefined }
  | { code: "lspci-dumps"; dumps: number; format: string }
  | { code: "lspci"; warning: LspciWarning };
