import { checkPlan } from "../../core/plan/check.js";
import { parsePlan } from "../../core/plan/parse.js";
import type { PlanProblem } from "../../core/plan/plan.js";
import { checkToJson, planErrorsToJson } from "../../core/plan/to-json.js";
import { UsageError } from "../errors.js";
import { inputLabel } from "../input.js";
import { loadSource, readTextInput, yamlError } from "../load.js";
import { predictOptions } from "../options.js";
import type { PredictFlags } from "../options.js";
import type { Output } from "../output.js";
import { toJson } from "../output.js";
import { renderCheck } from "../render/check.js";
import { style } from "../render/text.js";

export interface CheckOptions extends PredictFlags {
  /** the plan file (YAML) */
  plan: string;
  source?: string | undefined;
  json?: boolean | undefined;
}

/** exit codes: the plan is safe, unsafe, or could not be checked */
export const CHECK_SAFE = 0;
export const CHECK_UNSAFE = 1;
export const CHECK_BAD_INPUT = 2;

/** the plan's problems: every one as JSON on stdout, or one line on stderr (the first, counting the rest) */
async function reportProblems(file: string, problems: readonly PlanProblem[], json: boolean, io: Output): Promise<number> {
  if (json) io.out(toJson(planErrorsToJson(file, problems)));
  else io.err(`iommu-atlas: ${(await yamlError(file, problems, "see docs/plan.md")).message}`);
  return CHECK_BAD_INPUT;
}

/** `check PLAN [SOURCE]`: is this VM assignment plan safe on that machine, and how to apply it */
export async function check(opts: CheckOptions, io: Output): Promise<number> {
  if (opts.plan === "-" && opts.source === "-") throw new UsageError("the plan and the source cannot both be read from stdin (-); save one of them to a file");
  const planLabel = inputLabel(opts.plan);
  const text = await readTextInput(opts.plan, "pass a plan file (see docs/plan.md)");
  const parsed = parsePlan(text, planLabel);
  if (!parsed.ok) return reportProblems(planLabel, parsed.problems, opts.json === true, io);
  const { snapshot, label } = await loadSource(opts.source);
  const outcome = checkPlan(snapshot, parsed.plan, { predict: predictOptions(opts), label });
  if (!outcome.ok) return reportProblems(planLabel, outcome.problems, opts.json === true, io);
  const data = checkToJson(outcome.result, snapshot, label);
  io.out(opts.json ? toJson(data) : renderCheck(data, style(io.color)).join("\n"));
  return data.verdict === "safe" ? CHECK_SAFE : CHECK_UNSAFE;
}
