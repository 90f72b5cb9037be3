/**
 * The PCI ID database the CLI ships (data/pci.ids.gz), built into the page:
 * the names lspci prints, and the ids of lspci output pasted without -nn.
 * Read once, on first use or when the page is idle.
 */
import { gunzipSync, strFromU8 } from "fflate";
import pciIdsGz from "../../../data/pci.ids.gz?base64";
import { PciIds } from "./core.js";
import { fromBase64 } from "./share.js";

let ids: PciIds | undefined;

export function pciNames(): PciIds {
  ids ??= PciIds.parse(strFromU8(gunzipSync(fromBase64(pciIdsGz))));
  return ids;
}
