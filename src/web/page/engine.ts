/**
 * Runs the engine for the page: input → snapshot (the CLI's reader and
 * messages), then the same prediction, what-if, explanation and plan check
 * calls the CLI's groups / whatif / explain / check commands make.
 */
import {
  explainToJson,
  formatKernel,
  groupsToJson,
  kernelWithoutGroups,
  parseCmdline,
  parseKernelVersion,
  plan as planApi,
  predict,
  looksLikeCapture,
  snapshotFromArchive,
  snapshotFromText,
  whatIfToJson,
} from "./core.js";
import type { ExplainJson, GroupsJson, PredictOptions, Prediction, Snapshot, WhatIfJson } from "./core.js";
import { excerpt } from "../../core/excerpt.js";
import { pciNames } from "./pci-names.js";
import type { WhatIfState } from "./state.js";
import { whatIfActive } from "./state.js";

export interface Loaded {
  readonly snapshot: Snapshot;
  /** how messages and the JSON name the source */
  readonly label: string;
}

export type LoadResult = { readonly ok: true; readonly loaded: Loaded } | { readonly ok: false; readonly message: string };

/** the same reading and one-line messages as the CLI's loadSource, for bytes the user gave */
export function loadBytes(bytes: Uint8Array, label: string): LoadResult {
  if (!looksLikeCapture(bytes.subarray(0, 512))) return loadText(new TextDecoder("utf-8").decode(bytes), label);
  const r = snapshotFromArchive(bytes, label);
  return r.ok ? { ok: true, loaded: { snapshot: r.snapshot, label } } : { ok: false, message: r.message };
}

export function loadText(text: string, label: string): LoadResult {
  let r = snapshotFromText(text, label);
  // names without ids (lspci without -nn): read the ids back through pci.ids, as the CLI does
  if (r.ok && r.needsPciIds) r = snapshotFromText(text, label, { pciIds: pciNames() });
  return r.ok ? { ok: true, loaded: { snapshot: r.snapshot, label } } : { ok: false, message: r.message };
}

export interface Analysis {
  readonly loaded: Loaded;
  /** the prediction shown (after the what-if, if any) */
  readonly prediction: Prediction;
  /** the options it was made with, for the explanation's split search */
  readonly options: PredictOptions;
  readonly groups: GroupsJson;
  /** set when a what-if is active */
  readonly whatif: WhatIfJson | undefined;
  /** functions whose group changed under the what-if */
  readonly changed: ReadonlySet<string>;
  /** a what-if field that could not be read, worded like the CLI's option errors */
  readonly problem: string | undefined;
}

/** the source's cmdline with the what-if's parameters appended (the kernel takes the last occurrence) */
export function whatIfCmdline(snapshot: Snapshot, w: WhatIfState): string | undefined {
  if (w.override === undefined && w.disableAcsRedir === undefined && w.configAcs === undefined) return undefined;
  let words = (snapshot.cmdline ?? "").trim().split(/\s+/).filter((x) => x !== "");
  if (w.override !== undefined) words = words.filter((x) => !x.startsWith("pcie_acs_override="));
  if (w.override) words.push(`pcie_acs_override=${w.override}`);
  if (w.disableAcsRedir !== undefined) words.push(`pci=disable_acs_redir=${w.disableAcsRedir}`);
  if (w.configAcs !== undefined) words.push(`pci=config_acs=${w.configAcs}`);
  return words.join(" ");
}

/** `BDF=+RR-CR`, as `--acs` takes it */
export function acsEditText(e: { bdf: string; set: number; clear: number }, names: readonly (readonly [string, number])[]): string {
  return `${e.bdf}=${names
    .map(([n, bit]) => (e.set & bit ? `+${n}` : e.clear & bit ? `-${n}` : ""))
    .join("")}`;
}

export function analyse(loaded: Loaded, w: WhatIfState, acsNames: readonly (readonly [string, number])[]): Analysis {
  const { snapshot, label } = loaded;
  let problem: string | undefined;
  let kernel;
  if (w.kernel.trim() !== "") {
    kernel = parseKernelVersion(w.kernel.trim());
    if (!kernel) problem = `kernel '${excerpt(w.kernel.trim(), 40)}' is not a kernel version; write one such as 6.1 or 5.10`;
    else problem = kernelWithoutGroups(kernel);
  }
  if (!whatIfActive(w) || problem) {
    const p = predict(snapshot, {});
    // `groups --json`: names from pci.ids, like the CLI (whatif's JSON carries none)
    return { loaded, prediction: p, options: {}, groups: groupsToJson(snapshot, label, p, pciNames()), whatif: undefined, changed: new Set(), problem };
  }
  const after: PredictOptions = {
    kernel,
    cmdline: whatIfCmdline(snapshot, w),
    acsEdits: w.acs.filter((e) => snapshot.topology.functions.has(e.bdf)),
  };
  const acsText = w.acs.map((e) => acsEditText(e, acsNames));
  const { json, result } = whatIfToJson(snapshot, label, after, acsText);
  const changed = new Set<string>();
  for (const c of result.changes) for (const b of c.kind === "split" ? c.before : c.after) changed.add(b);
  return {
    loaded,
    prediction: result.after,
    options: { ...after, acsMode: json.acsMode === "boot" ? "boot" : undefined },
    groups: json.after,
    whatif: json,
    changed,
    problem,
  };
}

export function explain(a: Analysis, bdf: string): ExplainJson | undefined {
  return explainToJson(a.loaded.snapshot, a.prediction, bdf, a.options);
}

export type PlanOutcome =
  | { readonly kind: "empty" }
  | { readonly kind: "problems"; readonly lines: readonly string[] }
  | { readonly kind: "checked"; readonly json: planApi.CheckJson };

/** `iommu-atlas check PLAN SOURCE` on the page: the same parse, check and JSON */
export function checkPlanText(loaded: Loaded, text: string, file = "plan.yaml"): PlanOutcome {
  if (text.trim() === "") return { kind: "empty" };
  const parsed = planApi.parsePlan(text, file);
  if (!parsed.ok) return { kind: "problems", lines: parsed.problems.map((p) => planApi.formatPlanProblem(file, p)) };
  const outcome = planApi.checkPlan(loaded.snapshot, parsed.plan, { predict: {}, label: loaded.label });
  if (!outcome.ok) return { kind: "problems", lines: outcome.problems.map((p) => planApi.formatPlanProblem(file, p)) };
  return { kind: "checked", json: planApi.checkToJson(outcome.result, loaded.snapshot, loaded.label) };
}

export function sourceKernel(loaded: Loaded): string {
  return loaded.snapshot.osrelease ?? "";
}

export function sourceParams(loaded: Loaded): ReturnType<typeof parseCmdline> {
  return parseCmdline(loaded.snapshot.cmdline ?? "");
}

export { formatKernel };
