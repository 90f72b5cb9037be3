/**
 * Whether VFIO may take a whole group, as the kernel judges it
 * (kernel-spec §8.1): which drivers a group's functions may be bound to.
 */
import { atLeast } from "../kernel/version.js";
import type { KernelVersion } from "../kernel/version.js";
import type { PciFunction } from "../topology/model.js";
import { isBridge } from "./resolve.js";

/**
 * dma-ownership (5.19+): a group is viable when no bound driver uses the
 * kernel DMA API, i.e. every driver declares driver_managed_dma.
 * vfio-dev-viable (up to 5.18): every function is driver-less, on a vfio
 * driver or pci-stub, or is a bridge (with any driver).
 */
export type ViabilityModel = "dma-ownership" | "vfio-dev-viable";

export const viabilityModel = (kernel: KernelVersion): ViabilityModel => (atLeast(kernel, 5, 19) ? "dma-ownership" : "vfio-dev-viable");

/** vfio-pci and the vfio_pci_core variant drivers (mlx5_vfio_pci, hisi_acc_vfio_pci, pds_vfio_pci, …) */
export const isVfioDriver = (driver: string): boolean => driver === "vfio-pci" || driver === "vfio_pci" || /^[a-z0-9_]+_vfio_pci$/.test(driver);

/** PCI drivers with driver_managed_dma in v6.10, besides the vfio ones */
const DRIVER_MANAGED_DMA = new Set(["pci-stub", "pcieport"]);

/** true when `fn`, bound to `driver` (undefined: no driver), does not stop VFIO from claiming its group */
export function driverAllowed(model: ViabilityModel, fn: PciFunction, driver: string | undefined): boolean {
  if (driver === undefined || isVfioDriver(driver)) return true;
  if (model === "dma-ownership") return DRIVER_MANAGED_DMA.has(driver);
  return driver === "pci-stub" || isBridge(fn);
}
