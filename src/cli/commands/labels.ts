import { hostFacts } from "../../core/fleet/facts.js";
import { labelsText, nodeLabels } from "../../core/fleet/labels.js";
import { predict } from "../../core/iommu/predict.js";
import { writeFileAtomic } from "../atomic-write.js";
import { loadSource } from "../load.js";
import type { Output } from "../output.js";
import { OutputError, systemErrorText } from "../sysfs/errors.js";

export interface LabelsOptions {
  source?: string | undefined;
  /** the feature file to write (atomically); default stdout */
  output?: string | undefined;
}

/**
 * `labels [SOURCE]`: a node-feature-discovery local feature file for this
 * host (or SOURCE): IOMMU on, override in use, per GPU / NIC / NVMe whether
 * each device can go to a VM alone.
 */
export async function labels(opts: LabelsOptions, io: Output): Promise<number> {
  const { snapshot } = await loadSource(opts.source);
  const text = labelsText(nodeLabels(hostFacts(snapshot, predict(snapshot))));
  if (opts.output === undefined) {
    io.out(text);
    return 0;
  }
  // node-feature-discovery may read the file at any moment: never a half-written one (and the
  // temporary file is hidden, a dot file, which it does not read as features)
  try {
    await writeFileAtomic(opts.output, new TextEncoder().encode(text));
  } catch (err) {
    throw new OutputError(opts.output, `cannot write the feature file: ${systemErrorText(err)}`);
  }
  return 0;
}
