/**
 * Node labels for Kubernetes: a node-feature-discovery local feature file
 * (`key=value` lines) that says whether this node can give devices to VMs.
 * Keys carry no namespace, so node-feature-discovery publishes them under
 * feature.node.kubernetes.io/.
 */
import { DEVICE_KINDS, deviceKindCounts } from "./facts.js";
import type { HostFacts } from "./facts.js";

export const LABEL_PREFIX = "iommu-atlas.";

/** the labels of one host, in a fixed order */
export function nodeLabels(f: HostFacts): [string, string][] {
  const on = f.iommu !== "off" && f.groupCount > 0;
  const out: [string, string][] = [
    [`${LABEL_PREFIX}iommu`, String(on)],
    [`${LABEL_PREFIX}iommu-kind`, f.iommu],
    [`${LABEL_PREFIX}acs-override`, String(f.acsOverride !== null)],
    [`${LABEL_PREFIX}groups`, String(f.groupCount)],
  ];
  const counts = deviceKindCounts(f.functions);
  for (const k of DEVICE_KINDS) {
    const { count, alone } = counts[k.name];
    out.push([`${LABEL_PREFIX}${k.name}-count`, String(count)]);
    out.push([`${LABEL_PREFIX}${k.name}-isolated-count`, String(alone)]);
    // every one alone, and not only because an override says so
    out.push([`${LABEL_PREFIX}${k.name}-isolated`, String(count > 0 && alone === count && f.acsOverride === null)]);
  }
  return out;
}

/** the feature file text */
export function labelsText(labels: readonly (readonly [string, string])[]): string {
  return labels.map(([k, v]) => `${k}=${v}\n`).join("");
}
