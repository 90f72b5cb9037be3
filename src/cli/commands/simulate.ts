import path from "node:path";
import { parseScenario } from "../../core/sim/parse-scenario.js";
import { simulationFrom } from "../../core/sim/simulation.js";
import { simulationToJson } from "../../core/sim/to-json.js";
import type { Snapshot } from "../../core/sources/snapshot.js";
import { InputError } from "../errors.js";
import { inputLabel } from "../input.js";
import { loadSource, readTextInput, yamlError } from "../load.js";
import type { Output } from "../output.js";
import { toJson } from "../output.js";
import { renderSimulation } from "../render/simulate.js";
import { style } from "../render/text.js";
import { SourceError } from "../sysfs/errors.js";

export interface SimulateOptions {
  /** the scenario file (YAML, see docs/scenario.md) */
  scenario: string;
  json?: boolean | undefined;
}

/** exit codes: every expectation held (or none were given), some did not */
export const SIMULATE_PASSED = 0;
export const SIMULATE_FAILED = 1;

/**
 * `simulate SCENARIO`: replays the scenario's DMA transactions hop by hop
 * and prints, per transaction, its path, the decisions taken and how it
 * ended; exit 1 when an `expect:` in the scenario did not hold.
 */
export async function simulate(opts: SimulateOptions, io: Output): Promise<number> {
  const file = inputLabel(opts.scenario);
  const parsed = parseScenario(await readTextInput(opts.scenario, "pass a scenario file (see docs/scenario.md and examples/scenarios/)"));
  if (!parsed.ok) throw await yamlError(file, parsed.problems, "see docs/scenario.md");
  const sources = new Map<string, Snapshot>();
  for (const [i, topo] of parsed.input.topologies.entries()) {
    if (topo.kind !== "source") continue;
    // relative to the scenario's folder (the working folder for stdin)
    const resolved = path.resolve(opts.scenario === "-" ? "." : path.dirname(opts.scenario), topo.path);
    try {
      sources.set(parsed.input.file.hosts[i]!.name, (await loadSource(resolved)).snapshot);
    } catch (err) {
      if (err instanceof SourceError || err instanceof InputError) throw new InputError(`${file}:${topo.line}: hosts[${i}].source: ${err.message}`);
      throw err;
    }
  }
  const loaded = simulationFrom(parsed.input, sources);
  if (!loaded.ok) throw await yamlError(file, loaded.problems, "see docs/scenario.md");
  const data = simulationToJson(loaded.simulation.run(), file);
  io.out(opts.json ? toJson(data) : renderSimulation(data, style(io.color)).join("\n"));
  return data.passed ? SIMULATE_PASSED : SIMULATE_FAILED;
}
