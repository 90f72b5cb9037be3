export { FAULT_LINE_FORMATS, parseFaultLog } from "./parse.js";
export type { FaultArch, FaultLineFormat, FaultLogParse, ParsedFault } from "./parse.js";
export { explainFault, faultKind } from "./explain.js";
export type { FaultCause, FaultExplanation, FaultKind, FaultNote } from "./explain.js";
export { formatFaultCause, formatFaultFormat, formatFaultNote, formatFaultSummary } from "./messages.js";
export { faultsToJson } from "./to-json.js";
export type { FaultJson, FaultReportJson } from "./to-json.js";
