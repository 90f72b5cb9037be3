/**
 * The page state in the URL fragment: JSON, deflated with fflate,
 * base64url. The fragment never leaves the browser (it is not sent with
 * requests), so a shared link carries the input without uploading it.
 */
import { deflateSync, inflateSync, strFromU8, strToU8 } from "fflate";
import type { PageState } from "./state.js";
import { INITIAL, NO_WHATIF } from "./state.js";

const PREFIX = "#s=";

export function toBase64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

export function fromBase64(text: string): Uint8Array {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function encodeState(state: PageState): string {
  const packed = deflateSync(strToU8(JSON.stringify({ v: 1, ...state })), { level: 6 });
  return PREFIX + toBase64(packed).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** undefined: no state in the fragment; a string: why it could not be read */
export function decodeState(hash: string): PageState | string | undefined {
  if (!hash.startsWith(PREFIX)) return undefined;
  try {
    const b64 = hash.slice(PREFIX.length).replace(/-/g, "+").replace(/_/g, "/");
    const json: unknown = JSON.parse(strFromU8(inflateSync(fromBase64(b64 + "=".repeat((4 - (b64.length % 4)) % 4)))));
    if (typeof json !== "object" || json === null || (json as { v?: unknown }).v !== 1) return "the shared link is from another version of the page";
    const o = json as Partial<PageState>;
    return {
      input: o.input ?? INITIAL.input,
      whatif: { ...NO_WHATIF, ...(o.whatif ?? {}) },
      selected: typeof o.selected === "string" ? o.selected : undefined,
      search: typeof o.search === "string" ? o.search : "",
      hidden: Array.isArray(o.hidden) ? o.hidden.filter((x): x is string => typeof x === "string") : [],
      toggled: Array.isArray(o.toggled) ? o.toggled.filter((x): x is string => typeof x === "string") : [],
      plan: typeof o.plan === "string" ? o.plan : "",
    };
  } catch {
    return "the shared link is damaged (cut off when copied?); paste the input again";
  }
}
