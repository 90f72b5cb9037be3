/**
 * What a user can open to check a grouping step: the kernel function and
 * file that takes the decision, the quirk row it rests on (with the release
 * that brought it), and the section of docs/how-linux-groups.md that explains
 * it in this project's words. Section anchors are the step codes.
 */
import { ACS_ENABLE_ROWS, ACS_QUIRK_ROWS, ALIAS_QUIRK_ROWS } from "../quirks/index.js";
import type { QuirkRow } from "../quirks/index.js";
import type { Topology } from "../topology/model.js";
import type { AcsVerdict } from "./acs.js";
import type { PropsLookup } from "./dma-alias.js";
import type { GroupStep } from "./groups.js";

/** the project's explanation of how Linux forms groups (shipped with the package) */
export const GROUPING_DOC = "docs/how-linux-groups.md";

const IOMMU_C = "drivers/iommu/iommu.c";
const PCI_C = "drivers/pci/pci.c";

/** per step: the kernel code that decides it, and the doc section (anchor = the step's section) */
export const STEP_SOURCES: Record<GroupStep["code"], { readonly kernel: string; readonly anchor: string }> = {
  "alias-bridge-group": { kernel: `pci_device_group() in ${IOMMU_C}, walking pci_for_each_dma_alias() in drivers/pci/search.c`, anchor: "alias-bridge-group" },
  "acs-isolated": { kernel: `pci_acs_path_enabled() and pci_acs_enabled() in ${PCI_C}, called by pci_device_group() in ${IOMMU_C}`, anchor: "acs-path" },
  "acs-not-isolated": { kernel: `pci_acs_path_enabled() and pci_acs_enabled() in ${PCI_C}, called by pci_device_group() in ${IOMMU_C}`, anchor: "acs-path" },
  "alias-group": { kernel: `get_pci_alias_group() in ${IOMMU_C}`, anchor: "alias-group" },
  "function-group": { kernel: `get_pci_function_alias_group() in ${IOMMU_C}, with pci_acs_enabled() in ${PCI_C}`, anchor: "function-group" },
  "new-group": { kernel: `iommu_group_alloc() from pci_device_group() in ${IOMMU_C}`, anchor: "new-group" },
  "no-iommu": { kernel: `__iommu_probe_device() in ${IOMMU_C}: no IOMMU driver claims the device`, anchor: "no-iommu" },
  "arm-probe": {
    kernel: `really_probe() in drivers/base/dd.c → pci_dma_configure() in drivers/pci/pci-driver.c → iort_iommu_configure_id() in drivers/acpi/arm64/iort.c or of_iommu_configure() in drivers/iommu/of_iommu.c → iommu_probe_device() in ${IOMMU_C}`,
    anchor: "arm64",
  },
};

/** arm64 reasons for no group: the probe never ran, or the SMMUv3 driver refused the function */
const ARM64_NO_IOMMU: Partial<Record<string, { readonly kernel: string; readonly anchor: string }>> = {
  "no-driver": { kernel: "really_probe() in drivers/base/dd.c never ran for it: the SMMU is set up at driver probe", anchor: "arm64" },
  "stream-conflict": { kernel: "arm_smmu_insert_master() in drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c", anchor: "arm64" },
};

const ROWS = new Map<string, QuirkRow>([...ALIAS_QUIRK_ROWS, ...ACS_QUIRK_ROWS, ...ACS_ENABLE_ROWS].map((r) => [r.id, r]));

/**
 * A quirk row as the kernel source shows it: `DECLARE_PCI_FIXUP_HEADER` /
 * `_FINAL` rows for alias fixups, table entries for the ACS lookups, and the
 * release it arrived in when known.
 */
export function citeQuirkRow(rowId: string): string {
  if (rowId === "ivrs") return "the IVRS table's alias entries, read by drivers/iommu/amd/init.c";
  const row = ROWS.get(rowId);
  if (!row) return `quirk ${rowId}`;
  const ref = row.ref.replace(/^torvalds\/linux /, "");
  const hook = /^(drivers\/\S+) (\w+)(.*)$/.exec(ref);
  const where =
    hook && (row.pass === "header" || row.pass === "final")
      ? `the DECLARE_PCI_FIXUP_${row.pass.toUpperCase()} row of ${hook[2]}() in ${hook[1]}${hook[3]}`
      : ref.startsWith("drivers/")
        ? `its entry in ${ref}`
        : ref;
  const since = row.kernels?.since !== undefined && row.kernels.since !== "unknown" ? `, since ${row.kernels.since}` : "";
  return `quirk ${row.id}: ${where}${since}`;
}

function verdictQuirk(v: AcsVerdict | undefined): string | undefined {
  return v?.reason.kind === "quirk" ? v.reason.rowId : undefined;
}

/** which quirk row (or "ivrs") made two functions of one bus DMA aliases of each other */
export type AliasCauseLookup = (a: string, b: string) => string | undefined;

/** an AliasCauseLookup over a prediction's alias properties */
export function aliasCauses(topology: Topology, props: PropsLookup): AliasCauseLookup {
  return (a, b) => {
    const fa = topology.functions.get(a);
    const fb = topology.functions.get(b);
    if (!fa || !fb) return undefined;
    return props(a).aliasCauses.get(fb.devfn) ?? props(b).aliasCauses.get(fa.devfn);
  };
}

/** the quirk row a step rests on, if any */
function stepQuirk(step: GroupStep, aliasCause: AliasCauseLookup | undefined): string | undefined {
  switch (step.code) {
    case "alias-bridge-group":
      return step.alias.cause === "quirk" ? step.alias.source : undefined;
    case "alias-group": {
      // the first link of the chain from this function toward the partner that has the group
      const next = step.chain[0] ?? step.partner;
      return aliasCause?.(step.at, next);
    }
    case "acs-not-isolated":
      return verdictQuirk(step.failing);
    case "function-group":
    case "new-group":
      return verdictQuirk(step.verdict);
    default:
      return undefined;
  }
}

/** `<kernel function and file>[; <quirk row>]; docs/how-linux-groups.md#<section>` */
export function citeStep(step: GroupStep, aliasCause?: AliasCauseLookup): string {
  const src = (step.code === "no-iommu" ? ARM64_NO_IOMMU[step.reason] : undefined) ?? STEP_SOURCES[step.code];
  const quirk = stepQuirk(step, aliasCause);
  return [src.kernel, ...(quirk === undefined ? [] : [citeQuirkRow(quirk)]), `${GROUPING_DOC}#${src.anchor}`].join("; ");
}
