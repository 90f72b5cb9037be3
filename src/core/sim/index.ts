export { buildSimulation } from "./build.js";
export type { BuildResult, SimTransaction, SimWarning, SimulationParts, TlpSource } from "./build.js";
export {
  LOG_FORMATS,
  VTD_FAULT_RECORDS,
  acsViolationLines,
  amdLogLines,
  faultLogLines,
  formatArch,
  logFormatFor,
  smmuLogLines,
  vfBusRangeLine,
  vtdLogLines,
  vtdRecord,
} from "./fault-log.js";
export type { AmdEventRecord, FaultRecord, LogFormat, SmmuEventRecord, VtdFaultRecord } from "./fault-log.js";
export type { RefusedVfs, SimHost } from "./host.js";
export { Iotlb } from "./iotlb.js";
export type { IotlbOptions, IotlbStats } from "./iotlb.js";
export { formatDropReason, formatMapError, formatNotIssued, formatOutcome, formatStep } from "./messages.js";
export { NtbSwitch, buildNtb, defaultProxy } from "./ntb.js";
export type { LutEntry, NtPartition, NtSlot, NtWindow, NtbChip, WindowHit } from "./ntb.js";
export { DROP_REASONS, NOT_ISSUED_REASONS, OUTCOME_KINDS, OUTCOME_REASONS } from "./outcome.js";
export type { Claim, DropReason, NotIssuedReason, Outcome, OutcomeKind, OwnershipRule, PortKind, Step, TlpResult } from "./outcome.js";
export { parseScenario } from "./parse-scenario.js";
export type { HostTopologyInput, ScenarioInput, ScenarioParse, ScenarioProblem } from "./parse-scenario.js";
export { runTransaction } from "./route.js";
export { MAX_ADDRESS, SCENARIO_FIELDS, parseQuantity, scenarioSchema } from "./scenario-schema.js";
export type { ExpectSpec, HostSpec, NtbSpec, ScenarioFile, TransactionSpec } from "./scenario-schema.js";
export { Simulation, checkExpectation, loadScenario, simulationFrom } from "./simulation.js";
export type { CheckedResult, ExpectFailure, LoadResult, ScenarioRun } from "./simulation.js";
export { simulationToJson } from "./to-json.js";
export type { HostJson, OutcomeJson, SimulateJson, StepJson, TransactionJson } from "./to-json.js";
export { generateTrace, replayTrace } from "./trace.js";
export type { Trace, TraceOptions } from "./trace.js";
