import type { KernelVersion } from "../kernel/version.js";
import { ALIAS_QUIRK_ROWS } from "../quirks/alias-table.js";
import type { QuirkEffects } from "../quirks/apply.js";
import { formatDevfn } from "../topology/address.js";
import type { GasImage } from "./gas-image.js";
import { SWITCHTEC_PROXY_UNKNOWN } from "./kernel-messages.js";
import { proxyAliases } from "./proxy-aliases.js";
import type { ProxyAliasResult } from "./proxy-aliases.js";

/** where a Switchtec NT function's proxy aliases come from */
export type NtbProxyStatus = "from-registers" | "from-design" | "unknown";

/** the Switchtec quirk on one NT function, as a prediction sees it */
export interface NtbProxy {
  readonly status: NtbProxyStatus;
  /** the quirk row that fired */
  readonly rowId: string;
  /** the quirk's reproduction; absent when status is "unknown" */
  readonly result?: ProxyAliasResult;
}

export interface NtbProxyOptions {
  /** the snapshot's source: "design" images come from a declared partition table */
  readonly source: string;
  readonly kernel?: KernelVersion | undefined;
  /** see ProxyAliasOptions.fixedMapHi */
  readonly fixedMapHi?: boolean | undefined;
}

const SWITCHTEC_ROW_IDS: ReadonlySet<string> = new Set(ALIAS_QUIRK_ROWS.filter((r) => r.effect.kind === "switchtec-proxy").map((r) => r.id));

/**
 * Runs the Switchtec quirk for every function a switchtec-proxy row fired
 * on: over its register image when the snapshot has one, else "unknown".
 */
export function ntbProxies(
  quirks: ReadonlyMap<string, QuirkEffects>,
  images: ReadonlyMap<string, GasImage> | undefined,
  opts: NtbProxyOptions,
): Map<string, NtbProxy> {
  const out = new Map<string, NtbProxy>();
  for (const [bdf, q] of quirks) {
    if (!q.switchtecNt) continue;
    const rowId = q.fired.find((f) => SWITCHTEC_ROW_IDS.has(f.id))?.id ?? "switchtec-proxy";
    const image = images?.get(bdf);
    if (!image) {
      out.set(bdf, { status: "unknown", rowId });
      continue;
    }
    const result = proxyAliases(image, { kernel: opts.kernel, fixedMapHi: opts.fixedMapHi });
    out.set(bdf, { status: opts.source === "design" ? "from-design" : "from-registers", rowId, result });
  }
  return out;
}

/**
 * What a prediction should say about one NT function: unknown aliases,
 * the kernel's warnings, registers the capture lacks, a damaged excerpt,
 * and (hot-added) aliases that do not count for grouping.
 */
export function ntbWarnings(bdf: string, n: NtbProxy, hotplug = false): string[] {
  if (!n.result) return [`${bdf}: Switchtec NT function: ${SWITCHTEC_PROXY_UNKNOWN}`];
  const r = n.result;
  const out: string[] = [];
  const origin = n.status === "from-design" ? "declared partition table" : "register excerpt";
  for (const issue of r.imageIssues) out.push(`${bdf}: ${n.status === "from-design" ? "switchtec table" : "resource0.excerpt"}: ${issue}`);
  // hardware has at most 48 partitions; 0xff is what an unanswered MMIO read returns
  if (r.ownPartition === 0xff) out.push(`${bdf}: the ${origin} reads partition id 0xff: BAR0 did not answer (memory decoding off, no driver bound?); the kernel enables the device first, so capture again with the switchtec driver bound`);
  for (const w of r.warnings) out.push(`${bdf}: the Switchtec quirk warns "${w.text}": no proxy aliases for partition ${w.partition}, DMA arriving from it faults`);
  if (r.status === "incomplete") {
    out.push(`${bdf}: the ${origin} lacks ${r.missing.map((m) => m.register).join(", ")}: proxy aliases may be incomplete; capture again as root`);
  }
  if (hotplug && r.devfns.length > 0) {
    out.push(`${bdf}: hot-added NT function: its proxy aliases ${r.devfns.map(formatDevfn).join(", ")} are programmed into the IOMMU but do not count for its group (docs/how-linux-groups.md#hot-added-functions)`);
  }
  return out;
}
