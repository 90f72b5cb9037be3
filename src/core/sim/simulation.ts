/**
 * A built scenario and its run: every transaction in order (VT-d fault
 * record indexes carry over from one to the next, as in hardware), each
 * checked against its `expect:`, and the scenario's expected warnings.
 */
import { formatFault } from "../program/messages.js";
import { formatBdf, parseBdf } from "../topology/address.js";
import { buildSimulation } from "./build.js";
import type { SimWarning, SimulationParts } from "./build.js";
import type { SimHost } from "./host.js";
import type { TlpResult } from "./outcome.js";
import { parseScenario } from "./parse-scenario.js";
import type { ScenarioInput, ScenarioProblem } from "./parse-scenario.js";
import { runTransaction } from "./route.js";
import type { ExpectSpec } from "./scenario-schema.js";
import type { Snapshot } from "../sources/snapshot.js";

/** one expectation that did not hold */
export interface ExpectFailure {
  readonly field: string;
  readonly expected: string;
  readonly actual: string;
}

export interface CheckedResult extends TlpResult {
  /** fields the scenario expected; empty when it expected nothing */
  readonly checked: readonly string[];
  readonly failures: readonly ExpectFailure[];
}

export interface ScenarioRun {
  readonly description: string | undefined;
  readonly hosts: readonly SimHost[];
  readonly warnings: readonly SimWarning[];
  readonly results: readonly CheckedResult[];
  /** warnings the scenario expected (expect.warnings) */
  readonly expectedWarnings: readonly string[];
  /** expected warnings that no warning or boot log line contains */
  readonly missingWarnings: readonly string[];
  /** every expectation held */
  readonly passed: boolean;
}

const ridOf = (text: string): number => {
  const a = parseBdf(text)!;
  return (a.bus << 8) | a.devfn;
};
const hex = (n: number): string => `0x${n.toString(16)}`;
const rid16 = (n: number): string => formatBdf(0, n >> 8, n & 0xff).slice(5);

/** the fields of `e` that do not match the result */
export function checkExpectation(r: TlpResult, e: ExpectSpec): { checked: string[]; failures: ExpectFailure[] } {
  const o = r.outcome;
  const checked: string[] = [];
  const failures: ExpectFailure[] = [];
  const check = (field: string, expected: string, actual: string, ok: boolean): void => {
    checked.push(field);
    if (!ok) failures.push({ field, expected, actual });
  };
  if (e.outcome !== undefined) check("outcome", e.outcome, o.kind, o.kind === e.outcome);
  if (e.host !== undefined) check("host", e.host, o.host, o.host === e.host);
  if (e.rid !== undefined) {
    const actual = o.kind === "not-issued" ? undefined : o.rid & 0xffff;
    check("rid", rid16(ridOf(e.rid)), actual === undefined ? "none" : rid16(actual), actual === ridOf(e.rid));
  }
  if (e.address !== undefined) {
    const actual = o.kind === "not-issued" ? undefined : o.address;
    check("address", hex(e.address), actual === undefined ? "none" : hex(actual), actual === e.address);
  }
  if (e.fault !== undefined) {
    const f = o.kind === "faulted" ? o.fault : undefined;
    const want = typeof e.fault === "number" ? e.fault : /^(0x[0-9a-f]+|\d+)$/i.test(e.fault.trim()) ? Number(e.fault.trim()) : e.fault.trim().toLowerCase();
    const ok = f !== undefined && (typeof want === "number" ? f.code === want : f.name.toLowerCase() === want || formatFault(f).toLowerCase() === want);
    check("fault", String(e.fault), f ? `${hex(f.code)} ${f.name}` : "none", ok);
  }
  if (e.reason !== undefined) {
    const actual = o.kind === "dropped" || o.kind === "not-issued" ? o.reason : "none";
    check("reason", e.reason, actual, actual === e.reason);
  }
  if (e.translated !== undefined) {
    const actual = o.kind === "delivered" ? o.translated : undefined;
    check("translated", String(e.translated), actual === undefined ? `none (${o.kind})` : String(actual), actual === e.translated);
  }
  if (e.domain !== undefined) {
    const actual = o.kind === "delivered" ? o.domain : undefined;
    check("domain", e.domain, actual ?? `none (${o.kind})`, actual === e.domain);
  }
  if (e.to !== undefined) {
    const want = e.to === "memory" ? "memory" : (() => {
      const a = parseBdf(e.to)!;
      return formatBdf(a.segment, a.bus, a.devfn);
    })();
    const actual = o.kind === "delivered" ? o.to : "none";
    check("to", want, actual, actual === want);
  }
  if (e.log !== undefined) {
    const lines = o.kind === "delivered" ? [] : o.log;
    const text = lines.join("\n");
    for (const want of Array.isArray(e.log) ? e.log : [e.log]) check("log", want, lines.length === 0 ? "no log lines" : text, text.includes(want));
  }
  return { checked, failures };
}

/** a built scenario, ready to run */
export class Simulation {
  readonly parts: SimulationParts;

  constructor(parts: SimulationParts) {
    this.parts = parts;
  }

  get hosts(): readonly SimHost[] {
    return this.parts.hosts;
  }

  /** runs every transaction in order and checks the expectations */
  run(): ScenarioRun {
    const results: CheckedResult[] = this.parts.transactions.map((tx) => {
      const r = runTransaction(this.parts, tx);
      const { checked, failures } = tx.expect ? checkExpectation(r, tx.expect) : { checked: [], failures: [] };
      return { ...r, checked, failures };
    });
    const said = [...this.parts.warnings.map((w) => w.message), ...this.parts.hosts.flatMap((h) => h.bootLog)];
    const missingWarnings = this.parts.expectedWarnings.filter((w) => !said.some((s) => s.includes(w)));
    return {
      description: this.parts.description,
      hosts: this.parts.hosts,
      warnings: this.parts.warnings,
      results,
      expectedWarnings: this.parts.expectedWarnings,
      missingWarnings,
      passed: missingWarnings.length === 0 && results.every((r) => r.failures.length === 0),
    };
  }
}

export type LoadResult = { readonly ok: true; readonly simulation: Simulation } | { readonly ok: false; readonly problems: readonly ScenarioProblem[] };

/** builds a parsed scenario; `sources` holds the snapshots of `source:` hosts by host name */
export function simulationFrom(input: ScenarioInput, sources?: ReadonlyMap<string, Snapshot>): LoadResult {
  const built = buildSimulation(input, sources);
  return built.ok ? { ok: true, simulation: new Simulation(built.parts) } : built;
}

/** parses and builds a scenario whose hosts are all inline (no `source:`) */
export function loadScenario(text: string): LoadResult {
  const parsed = parseScenario(text);
  if (!parsed.ok) return parsed;
  return simulationFrom(parsed.input);
}
