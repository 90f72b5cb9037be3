/**
 * The texts quirk_switchtec_ntb_dma_alias prints (kernel-spec §6.1,
 * hw-models §1.6), without the device prefix the kernel adds
 * ("pci 0000:03:00.1: "). Levels: the first line is info, the per-partition
 * and per-entry lines are debug in current kernels, the size lines warn.
 */
import { formatDevfn } from "../topology/address.js";

/** pci_info, once per NT function */
export const SWITCHTEC_SETTING_ALIASES = "Setting Switchtec proxy ID aliases";
/** pci_err when the device cannot be enabled (not modelled: a register image implies a working BAR) */
export const SWITCHTEC_CANNOT_ENABLE = "Cannot enable Switchtec device";
/** pci_err when BAR0 cannot be mapped (not modelled, see above) */
export const SWITCHTEC_CANNOT_IOMAP = "Cannot iomap Switchtec device";

/** pci_dbg "Processing partition %d" */
export const switchtecProcessing = (partition: number): string => `Processing partition ${partition}`;

/** pci_warn "Partition %d table_sz 0" */
export const switchtecTableSizeZero = (partition: number): string => `Partition ${partition} table_sz 0`;

/** pci_warn "Invalid Switchtec partition %d table_sz %d" */
export const switchtecTableSizeInvalid = (partition: number, size: number): string => `Invalid Switchtec partition ${partition} table_sz ${size}`;

/** pci_dbg "Aliasing Partition %d Proxy ID %02x.%d" (slot in two hex digits, then the function) */
export const switchtecAliasing = (partition: number, devfn: number): string => `Aliasing Partition ${partition} Proxy ID ${formatDevfn(devfn)}`;

/** what a prediction says when the quirk fired but no register image or design table exists */
export const SWITCHTEC_PROXY_UNKNOWN = "proxy aliases unknown: capture as root on the host with the NT function to read them";
