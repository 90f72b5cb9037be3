/**
 * The page state in the URL fragment: JSON, deflated with fflate,
 * base64url. The fragment never leaves the browser (it is not sent with
 * requests), so a shared link carries the input without uploading it.
 *
 * A link is input from a stranger like any pasted file: it is inflated in
 * slices up to a limit (a deflate bomb stops there), and the JSON is checked
 * field by field before the page uses any of it. A link that fails gives one
 * line saying where, and the page stays as it was.
 */
import { Inflate, deflateSync, strFromU8, strToU8 } from "fflate";
import { z } from "zod";
import { excerpt } from "../../core/excerpt.js";
import type { PageState } from "./state.js";

const PREFIX = "#s=";

/** the longest fragment read: browsers keep about 2 MB of a URL */
export const MAX_FRAGMENT_CHARS = 8 * 1024 * 1024;
/** the most JSON a link may inflate to: about 16 times what a browser keeps of a URL (pasted text deflates about 10:1) */
export const MAX_STATE_BYTES = 32 * 1024 * 1024;

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

const name = z.string().max(4096);
const flagBits = z.number().int().min(0).max(0xffff);

const inputSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("none") }),
  z.object({ kind: z.literal("example"), id: z.string().max(200) }),
  z.object({ kind: z.literal("text"), name, text: z.string() }),
  z.object({ kind: z.literal("bytes"), name, data: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/) }),
]);

const whatifSchema = z.object({
  kernel: z.string().max(100).default(""),
  override: z.string().max(4096).optional(),
  disableAcsRedir: z.string().max(65536).optional(),
  configAcs: z.string().max(65536).optional(),
  acs: z.array(z.object({ bdf: z.string().max(64), set: flagBits, clear: flagBits })).max(65536).default([]),
});

const stateSchema = z.object({
  v: z.literal(1),
  input: inputSchema.default({ kind: "none" }),
  whatif: whatifSchema.default({ kernel: "", acs: [] }),
  selected: z.string().max(64).optional(),
  search: z.string().max(4096).default(""),
  hidden: z.array(z.string().max(64)).max(256).default([]),
  toggled: z.array(z.string().max(64)).max(65536).default([]),
  plan: z.string().max(1024 * 1024).default(""),
});

export function encodeState(state: PageState): string {
  const packed = deflateSync(strToU8(JSON.stringify({ v: 1, ...state })), { level: 6 });
  return PREFIX + toBase64(packed).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const DAMAGED = "the shared link is damaged (cut off when copied?); paste the input again";

/** `bytes` inflated, or undefined when the data is not deflate or would pass `limit` bytes */
function inflateBounded(bytes: Uint8Array, limit: number): Uint8Array | "too-large" | undefined {
  const parts: Uint8Array[] = [];
  let total = 0;
  let over = false;
  const inflate = new Inflate((chunk) => {
    total += chunk.length;
    if (total > limit) over = true;
    else parts.push(chunk);
  });
  try {
    // slices, so a bomb is noticed after one slice's output and not after all of it
    const SLICE = 16 * 1024;
    for (let i = 0; i < bytes.length && !over; i += SLICE) inflate.push(bytes.subarray(i, i + SLICE), i + SLICE >= bytes.length);
  } catch {
    return undefined;
  }
  if (over) return "too-large";
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** where the first problem is, in the JSON's own field names (`whatif.acs[0].set`) */
function fieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const k of path) out += typeof k === "number" ? `[${k}]` : `${out === "" ? "" : "."}${String(k)}`;
  return out === "" ? "the state" : out;
}

/** undefined: no state in the fragment; a string: why it could not be read (one line) */
export function decodeState(hash: string): PageState | string | undefined {
  if (!hash.startsWith(PREFIX)) return undefined;
  if (hash.length > MAX_FRAGMENT_CHARS) return `the shared link is ${hash.length} characters long, more than a page state can be (${MAX_FRAGMENT_CHARS}); paste the input instead`;
  const b64 = hash.slice(PREFIX.length).replace(/-/g, "+").replace(/_/g, "/");
  if (!/^[A-Za-z0-9+/]*$/.test(b64) || b64.length % 4 === 1) return DAMAGED;
  const packed = fromBase64(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  const inflated = inflateBounded(packed, MAX_STATE_BYTES);
  if (inflated === undefined) return DAMAGED;
  if (inflated === "too-large") return `the shared link inflates to more than ${MAX_STATE_BYTES / (1024 * 1024)} MiB, more than a page state can be: not a link from this page; paste the input instead`;
  let json: unknown;
  try {
    json = JSON.parse(strFromU8(inflated));
  } catch {
    return DAMAGED;
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return DAMAGED;
  if ((json as { v?: unknown }).v !== 1) return "the shared link is from another version of the page; paste the input again";
  const r = stateSchema.safeParse(json);
  if (!r.success) {
    const first = r.error.issues[0];
    return `the shared link's ${excerpt(fieldPath(first?.path ?? []), 60)} is not what this page writes there: not a link from this page, or from another version; paste the input again`;
  }
  const { input, whatif, selected, search, hidden, toggled, plan } = r.data;
  return {
    input,
    whatif: { kernel: whatif.kernel, override: whatif.override, disableAcsRedir: whatif.disableAcsRedir, configAcs: whatif.configAcs, acs: whatif.acs },
    selected,
    search,
    hidden,
    toggled,
    plan,
  };
}
