/**
 * A VM assignment plan after parsing: every entry keeps the line and field
 * it came from, so later checks can point back into the file.
 */
import { excerpt } from "../excerpt.js";
import type { RidText, Selector } from "./select.js";

/** where in the plan file something was written */
export interface PlanPlace {
  readonly line: number;
  /** `guests[0].devices[1]` */
  readonly path: string;
}

/** a problem with the plan itself (syntax, schema, or a selector the machine cannot satisfy) */
export interface PlanProblem extends PlanPlace {
  readonly message: string;
}

export interface DeviceEntry extends PlanPlace {
  /** as written */
  readonly text: string;
  readonly selector: Selector;
  /** driver asked for this entry; undefined: the guest's default (guests) or keep the current one (host) */
  readonly driver: string | undefined;
}

export interface GuestPlan extends PlanPlace {
  readonly name: string;
  /** default driver for the guest's functions */
  readonly driver: string;
  readonly devices: readonly DeviceEntry[];
}

export interface SriovRequest extends PlanPlace {
  /** canonical BDF of the physical function */
  readonly pf: string;
  readonly numVfs: number;
}

export interface RequestedRid extends PlanPlace {
  readonly text: string;
  readonly rid: RidText;
}

/** DMA aliases a guest asks the host to add for one of its devices */
export interface AliasRequest extends PlanPlace {
  readonly guest: string;
  /** canonical BDF */
  readonly device: string;
  readonly devicePlace: PlanPlace;
  readonly requesterIds: readonly RequestedRid[];
  /** what the guest says the aliases are for */
  readonly reason: string | undefined;
}

export interface Plan {
  /** the file name used in messages */
  readonly file: string;
  readonly description: string | undefined;
  readonly guests: readonly GuestPlan[];
  readonly host: readonly DeviceEntry[];
  readonly sriov: readonly SriovRequest[];
  readonly aliasRequests: readonly AliasRequest[];
}

/** the name functions nobody claims belong to; no guest may take it */
export const HOST = "host";

/** the driver guest functions get unless the plan says otherwise */
export const DEFAULT_GUEST_DRIVER = "vfio-pci";

export type PlanResult = { readonly ok: true; readonly plan: Plan } | { readonly ok: false; readonly problems: readonly PlanProblem[] };

/** longest a problem's text may be; past it the text is cut, as the CLI's one line is */
const MAX_PROBLEM_LENGTH = 400;

/**
 * `plan.yaml:12: guests[0].devices[1]: message`, one printable line: text the
 * plan holds (quoted back by the YAML parser, say) is escaped and cut
 */
export function formatPlanProblem(file: string, p: PlanProblem): string {
  return `${file}:${p.line}: ${excerpt(`${p.path ? `${p.path}: ` : ""}${p.message}`, MAX_PROBLEM_LENGTH)}`;
}
