/** Everything a shared link reproduces: the input and what the user set on the page. */

export type InputState =
  | { readonly kind: "none" }
  | { readonly kind: "example"; readonly id: string }
  | { readonly kind: "text"; readonly name: string; readonly text: string }
  /** a dropped binary (capture archive), base64 */
  | { readonly kind: "bytes"; readonly name: string; readonly data: string };

export interface AcsEditState {
  readonly bdf: string;
  readonly set: number;
  readonly clear: number;
}

export interface WhatIfState {
  /** empty: the source's kernel */
  readonly kernel: string;
  /** undefined: as the source was booted */
  readonly override: string | undefined;
  readonly disableAcsRedir: string | undefined;
  readonly configAcs: string | undefined;
  readonly acs: readonly AcsEditState[];
}

export interface PageState {
  readonly input: InputState;
  readonly whatif: WhatIfState;
  readonly selected: string | undefined;
  readonly search: string;
  /** class filters that are switched off */
  readonly hidden: readonly string[];
  /** switches (upstream ports) shown open or closed against the default */
  readonly toggled: readonly string[];
  /** the plan YAML */
  readonly plan: string;
}

export const NO_WHATIF: WhatIfState = { kernel: "", override: undefined, disableAcsRedir: undefined, configAcs: undefined, acs: [] };

export const INITIAL: PageState = { input: { kind: "none" }, whatif: NO_WHATIF, selected: undefined, search: "", hidden: [], toggled: [], plan: "" };

export function whatIfActive(w: WhatIfState): boolean {
  return w.kernel !== "" || w.override !== undefined || w.disableAcsRedir !== undefined || w.configAcs !== undefined || w.acs.length > 0;
}
