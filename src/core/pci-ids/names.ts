/** Names as lspci prints them, from a PciIds database */
import type { PciIds } from "./pci-ids.js";

/** what display code needs of the database */
export type PciNames = Pick<PciIds, "vendorName" | "deviceName" | "className">;

const h4 = (n: number): string => n.toString(16).padStart(4, "0");

/** `Vendor Device`, with lspci's fallbacks `Vendor Device dddd` and `Device vvvv:dddd` */
export function lspciName(names: PciNames, vendor: number, device: number): string {
  const v = names.vendorName(vendor);
  if (v === undefined) return `Device ${h4(vendor)}:${h4(device)}`;
  return `${v} ${names.deviceName(vendor, device) ?? `Device ${h4(device)}`}`;
}
