/** capture archives in the browser */
import type { LoadResult } from "./engine.js";

export function readArchive(_bytes: Uint8Array, label: string): LoadResult {
  return { ok: false, message: `${label}: capture archives cannot be read in the page yet; paste the output of 'sudo lspci -vvnn' instead` };
}
