export { PciIds } from "./pci-ids.js";
export type { IdMatch, NameLookup } from "./pci-ids.js";
export { lspciName } from "./names.js";
export type { PciNames } from "./names.js";
