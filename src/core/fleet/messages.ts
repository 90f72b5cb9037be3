/** the English of the fleet facts: reasons and risks, one line each */
import type { RidEmitter } from "../plan/findings.js";
import { causeText } from "../plan/messages.js";
import { formatRid } from "../topology/address.js";

/** why a function is not alone: who shares its group, and the step that put them together */
export function sharesGroupText(group: number, others: readonly string[], step: { bdf: string; text: string } | undefined): string {
  return `shares group ${group} with ${others.join(", ")}${step ? `; ${step.bdf}: ${step.text}` : ""}`;
}

export function overrideRiskText(value: string, reachable: readonly string[]): string {
  const n = reachable.length;
  return (
    `pcie_acs_override=${value} in use: groups split by assumption, not by hardware ACS` +
    (n > 0 ? `; ${n} function${n === 1 ? "" : "s"} can still be reached peer to peer: ${reachable.slice(0, 4).join(", ")}${n > 4 ? " …" : ""}` : "")
  );
}

/** a requester ID that functions of several groups (the emitters' domains) can emit */
export function aliasConflictText(rids: readonly number[], emitters: readonly RidEmitter[]): string {
  const groups = [...new Set(emitters.map((e) => e.domain))].sort((a, b) => Number(a) - Number(b));
  return `requester ID${rids.length > 1 ? "s" : ""} ${rids.map((r) => formatRid(r)).join(", ")} emitted from groups ${groups.join(" and ")}: ${emitters
    .map((e) => `${e.bdf} (group ${e.domain}) ${causeText(e)}`)
    .join("; ")}`;
}

export function rmrrSharedText(bdf: string, via: string, group: number, others: readonly string[]): string {
  return `${bdf} has an RMRR${via === bdf ? "" : ` through bridge ${via}`} and shares group ${group} with ${others.join(", ")}: giving any of them to a VM takes the RMRR device too`;
}
