/**
 * The page: input → the engine's records → group list, topology graph,
 * function panel, what-if and plan. The state lives in one object and in
 * the URL fragment; every view is drawn from the current analysis.
 */
import "./style.css";
import "./graph.css";
import { ACS_FLAG_NAMES, looksLikeCapture, lspciName, formatGroupChange, formatIsolationLost, formatNote, formatSplitCaveat, formatTopologyIssue, formatUnknownAcsDependency, sourceText } from "./core.js";
import type { GroupsJson, MemberJson } from "./core.js";
import { analyse, checkPlanText, explain, sourceParams } from "./engine.js";
import type { Analysis, Loaded } from "./engine.js";
import { EXAMPLES } from "./examples.js";
import { loadInput } from "./input.js";
import { byId, copyButton, download, h } from "./dom.js";
import { drawGraph, switchesClosedByDefault, warmUpLayout } from "./graph.js";
import { exportPng, exportSvg } from "./export.js";
import { groupColour, groupTextColour } from "./palette.js";
import { pciNames } from "./pci-names.js";
import { decodeState, encodeState, toBase64 } from "./share.js";
import { INITIAL, NO_WHATIF, whatIfActive } from "./state.js";
import type { InputState, PageState, WhatIfState } from "./state.js";

let state: PageState = INITIAL;
let loaded: Loaded | undefined;
let analysis: Analysis | undefined;
let graphToken = 0;

const status = (text: string): void => {
  byId("status").textContent = text;
};

// ---------- input ----------

/** reads a new input; a bad one leaves the last good machine on screen and says why next to the input */
function setInput(input: InputState, keep: Partial<PageState> = {}): void {
  const t0 = performance.now();
  const r = loadInput(input);
  if (!r) return;
  if (!r.ok) {
    byId("input-error").textContent = r.message;
    document.body.dataset["state"] = "input-error";
    return;
  }
  byId("input-error").textContent = "";
  loaded = r.loaded;
  listAll = false;
  state = { ...INITIAL, input, ...keep };
  refresh();
  status(`read ${loaded.label}: ${loaded.snapshot.topology.functions.size} functions in ${(performance.now() - t0).toFixed(0)} ms`);
}

function readFile(file: File): void {
  void file.arrayBuffer().then((buf) => {
    const bytes = new Uint8Array(buf);
    // text stays text in the state (and in a shared link); an archive travels as base64
    if (looksLikeCapture(bytes.subarray(0, 512))) return setInput({ kind: "bytes", name: file.name, data: toBase64(bytes) });
    // the CLI's reading of a text file: UTF-16 with its mark, binary refused with its offset
    const t = sourceText(bytes, file.name);
    if (!t.ok) {
      byId("input-error").textContent = t.message;
      document.body.dataset["state"] = "input-error";
      return;
    }
    setInput({ kind: "text", name: file.name, text: t.text });
  });
}

function setupInput(): void {
  byId("paste-go").addEventListener("click", () => {
    const text = byId<HTMLTextAreaElement>("paste").value;
    if (text.trim() === "") {
      byId("input-error").textContent = "pasted text: nothing pasted; paste the output of 'sudo lspci -vvnn' or a design YAML";
      return;
    }
    setInput({ kind: "text", name: "pasted text", text });
  });
  byId<HTMLInputElement>("file").addEventListener("change", (ev) => {
    const f = (ev.target as HTMLInputElement).files?.[0];
    if (f) readFile(f);
  });
  document.addEventListener("dragover", (ev) => {
    ev.preventDefault();
    document.body.classList.add("dragging");
  });
  document.addEventListener("dragleave", () => document.body.classList.remove("dragging"));
  document.addEventListener("drop", (ev) => {
    ev.preventDefault();
    document.body.classList.remove("dragging");
    const f = ev.dataTransfer?.files[0];
    if (f) readFile(f);
  });
  const gallery = byId("gallery");
  for (const ex of EXAMPLES) {
    const b = h("button", { type: "button", "data-example": ex.id }, ex.title);
    b.addEventListener("click", () => setInput({ kind: "example", id: ex.id }));
    gallery.append(h("li", {}, b, h("span", { class: "help" }, ` ${ex.file}`)));
  }
}

// ---------- analysis and views ----------

function refresh(opts: { layout?: boolean } = {}): void {
  if (!loaded) return;
  // views are redrawn: keep the keyboard focus on the control that had it
  const focused = document.activeElement?.id;
  analysis = analyse(loaded, state.whatif, ACS_FLAG_NAMES);
  document.body.dataset["state"] = "loaded";
  renderSource();
  renderWhatIf();
  renderGroups();
  renderPanel();
  renderPlan();
  if (opts.layout !== false) void renderGraph();
  saveHash();
  if (focused) document.getElementById(focused)?.focus();
}

/** browsers cut addresses beyond about 2 MB; larger inputs are not put in the link */
const MAX_LINK = 1_500_000;
let hashTimer: ReturnType<typeof setTimeout> | undefined;

/** writes the state into the fragment now; false when it is too large for a link */
function writeHash(): boolean {
  clearTimeout(hashTimer);
  hashTimer = undefined;
  if (state.input.kind === "none") return true;
  const hash = encodeState(state);
  if (hash.length > MAX_LINK) {
    history.replaceState(null, "", "#");
    return false;
  }
  history.replaceState(null, "", hash);
  return true;
}

/** the fragment follows the state shortly after each change (compressing a large input takes a moment) */
function saveHash(): void {
  clearTimeout(hashTimer);
  hashTimer = setTimeout(writeHash, 250);
}

function renderSource(): void {
  const a = analysis!;
  const g = a.groups;
  byId("source-line").textContent = `${g.source.label}: ${a.prediction.topology.functions.size} functions, ${g.groups.length} IOMMU groups; kernel ${g.kernel.version} (${g.kernel.from}), IOMMU ${g.iommu.kind}`;
  const notes = byId("notes");
  notes.replaceChildren(
    ...a.loaded.snapshot.notes.map((n) => h("li", {}, formatNote(n))),
    ...a.prediction.topology.issues.map((i) => h("li", {}, formatTopologyIssue(i))),
    ...g.warnings.map((w) => h("li", { class: "warn" }, `warning: ${w}`)),
  );
}

type ClassKey = "gpu" | "nic" | "nvme" | "usb" | "bridge" | "other";
const CLASS_FILTERS: readonly [ClassKey, string][] = [
  ["gpu", "GPU / display"],
  ["nic", "Network"],
  ["nvme", "NVMe"],
  ["usb", "USB"],
  ["bridge", "Bridges and ports"],
  ["other", "Other"],
];

/** the filter bucket of a class code (display only) */
function classKey(code: number): ClassKey {
  const base = code >> 16;
  if (base === 0x03) return "gpu";
  if (base === 0x02) return "nic";
  if (code >> 8 === 0x0108) return "nvme";
  if (code >> 8 === 0x0c03) return "usb";
  if (base === 0x06) return "bridge";
  return "other";
}

function setupGroupControls(): void {
  const filters = byId("filters");
  for (const [key, text] of CLASS_FILTERS) {
    const box = h("input", { type: "checkbox", id: `filter-${key}`, checked: true, "data-filter": key });
    box.addEventListener("change", () => {
      state = { ...state, hidden: box.checked ? state.hidden.filter((x) => x !== key) : [...state.hidden, key] };
      renderGroups();
      saveHash();
    });
    filters.append(h("label", { class: "check" }, box, ` ${text}`));
  }
  const search = byId<HTMLInputElement>("search");
  search.addEventListener("input", () => {
    state = { ...state, search: search.value };
    renderGroups();
    saveHash();
  });
  document.addEventListener("keydown", (ev) => {
    const t = ev.target as HTMLElement;
    if (ev.key === "/" && !/^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)) {
      ev.preventDefault();
      search.focus();
    }
  });
  // arrow keys move between the functions of the list
  byId("group-list").addEventListener("keydown", (ev) => {
    if (ev.key !== "ArrowDown" && ev.key !== "ArrowUp") return;
    const items = [...byId("group-list").querySelectorAll<HTMLButtonElement>("button.member")];
    const i = items.indexOf(document.activeElement as HTMLButtonElement);
    if (i < 0) return;
    ev.preventDefault();
    items[Math.max(0, Math.min(items.length - 1, i + (ev.key === "ArrowDown" ? 1 : -1)))]!.focus();
  });
}

/** the lspci name: from the groups JSON, or (what-if JSON has none) from the same database */
function memberName(m: MemberJson): string {
  return m.name ?? lspciName(pciNames(), parseInt(m.vendor, 16), parseInt(m.device, 16));
}

function memberMatches(m: MemberJson, q: string): boolean {
  if (q === "") return true;
  const key = classKey(classOfMember(m));
  const hay = `${m.bdf} ${m.className} ${memberName(m)} ${m.vendor}:${m.device} ${m.kind} ${m.driver ?? ""} ${key} ${CLASS_FILTERS.find(([k]) => k === key)![1]}`.toLowerCase();
  return q
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w !== "")
    .every((w) => hay.includes(w));
}

function classOfMember(m: MemberJson): number {
  return analysis!.prediction.topology.functions.get(m.bdf)?.classCode ?? 0;
}

/** large machines: the list shows this many groups until asked for all (search and filters see every group) */
const LIST_LIMIT = 300;
let listAll = false;

function renderGroups(): void {
  const a = analysis!;
  const list = byId("group-list");
  const q = state.search.trim();
  const hidden = new Set(state.hidden);
  const items: HTMLElement[] = [];
  let shown = 0;
  for (const g of a.groups.groups) {
    const members = g.members.filter((m) => !hidden.has(classKey(classOfMember(m))) && memberMatches(m, q));
    if (members.length === 0) continue;
    shown++;
    if (shown > LIST_LIMIT && !listAll && !members.some((m) => m.bdf === state.selected)) continue;
    const changed = g.members.some((m) => a.changed.has(m.bdf));
    const head = h(
      "h3",
      { class: "group-head" },
      h("span", { class: "badge-inline", "data-colour": String(g.id % 8) }, `G${g.id}`),
      ` IOMMU group ${g.id}`,
      g.members.length > 1 ? ` (${g.members.length} functions)` : "",
      changed ? h("span", { class: "changed-tag" }, " changed by the what-if") : "",
    );
    colourBadge(head.querySelector(".badge-inline")!, g.id);
    const ul = h("ul", { class: "members" });
    for (const m of members) {
      const b = h(
        "button",
        { type: "button", class: `member${m.bdf === state.selected ? " selected" : ""}`, "data-bdf": m.bdf, "aria-current": m.bdf === state.selected ? "true" : undefined },
        h("span", { class: "bdf" }, m.bdf.replace(/^0000:/, "")),
        ` ${m.className}: ${memberName(m)} [${m.vendor}:${m.device}]`,
        h("span", { class: "help" }, ` ${m.kind}${m.driver ? `, driver ${m.driver}` : ""}${m.kernelGroup !== null && m.kernelGroup !== g.id ? `, kernel said group ${m.kernelGroup}` : ""}`),
      );
      b.addEventListener("click", () => select(m.bdf));
      ul.append(h("li", {}, b));
    }
    items.push(h("li", { class: "group", "data-group": g.id, "aria-label": `IOMMU group ${g.id}` }, head, ul));
  }
  for (const u of a.groups.ungrouped) {
    if (q !== "" && !u.bdf.includes(q)) continue;
    items.push(h("li", { class: "group ungrouped" }, h("h3", { class: "group-head" }, `${u.bdf.replace(/^0000:/, "")}: ${u.text}`)));
  }
  if (shown > LIST_LIMIT && !listAll) {
    const more = h("button", { type: "button", id: "list-all" }, `Show all ${shown} groups`);
    more.addEventListener("click", () => {
      listAll = true;
      renderGroups();
    });
    items.push(h("li", { class: "group more" }, `${shown - LIST_LIMIT} more groups match; search narrows them. `, more));
  }
  list.replaceChildren(...items);
  byId("group-count").textContent = `${shown} of ${a.groups.groups.length} groups match`;
}

function colourBadge(el: HTMLElement, group: number): void {
  el.style.background = groupColour(group);
  el.style.color = groupTextColour(group);
}

function select(bdf: string): void {
  state = { ...state, selected: bdf };
  renderGroups();
  renderPanel();
  markGraphSelection();
  saveHash();
}

async function renderGraph(): Promise<void> {
  const a = analysis!;
  const token = ++graphToken;
  const holder = byId("graph");
  holder.setAttribute("aria-busy", "true");
  const t0 = performance.now();
  const drawn = await drawGraph(
    { prediction: a.prediction, selected: state.selected, changed: a.changed, toggled: new Set(state.toggled) },
    { select, toggleSwitch },
  );
  if (token !== graphToken) return;
  holder.replaceChildren(drawn.svg);
  holder.setAttribute("aria-busy", "false");
  holder.dataset["ready"] = String(token);
  document.body.dataset["graph"] = "ready";
  const ms = performance.now() - t0;
  holder.dataset["layoutMs"] = ms.toFixed(1);
  const closed = switchesClosedByDefault(a.prediction);
  byId("open-all").hidden = !closed;
  byId("close-all").hidden = closed;
}

function markGraphSelection(): void {
  const a = analysis!;
  const group = state.selected !== undefined ? a.prediction.groups.groupOf.get(state.selected) : undefined;
  for (const g of byId("graph").querySelectorAll<SVGGElement>("g.node")) {
    const bdf = g.getAttribute("data-bdf");
    g.classList.toggle("selected", bdf === state.selected);
    g.classList.toggle("same-group", bdf !== state.selected && group !== undefined && g.getAttribute("data-group") === String(group));
  }
}

function toggleSwitch(bdf: string): void {
  const t = new Set(state.toggled);
  if (t.has(bdf)) t.delete(bdf);
  else t.add(bdf);
  state = { ...state, toggled: [...t], selected: bdf };
  void renderGraph().then(() => byId("graph").querySelector<SVGGElement>(`g.node[data-bdf="${CSS.escape(bdf)}"]`)?.focus());
  renderPanel();
  saveHash();
}

function setupGraphControls(): void {
  byId("open-all").addEventListener("click", () => {
    if (!analysis) return;
    const usps = [...analysis.prediction.topology.functions.values()].filter((f) => f.bridgeKind === "upstream-port").map((f) => f.bdf);
    state = { ...state, toggled: usps };
    void renderGraph();
    saveHash();
  });
  byId("close-all").addEventListener("click", () => {
    if (!analysis) return;
    const usps = [...analysis.prediction.topology.functions.values()].filter((f) => f.bridgeKind === "upstream-port").map((f) => f.bdf);
    state = { ...state, toggled: switchesClosedByDefault(analysis.prediction) ? [] : usps };
    void renderGraph();
    saveHash();
  });
}

// ---------- function panel ----------

function renderPanel(): void {
  const panel = byId("panel");
  const a = analysis;
  if (!a || state.selected === undefined) {
    panel.replaceChildren(h("p", { class: "help" }, "Select a function in the graph or the list to see why it is in its group."));
    return;
  }
  const e = explain(a, state.selected);
  if (!e) {
    panel.replaceChildren(h("p", { class: "error" }, `${a.loaded.label}: has no function ${state.selected}`));
    return;
  }
  const fn = a.prediction.topology.functions.get(e.bdf)!;
  const parts: HTMLElement[] = [
    h("h3", { class: "fn-title" }, `${e.bdf}  [${e.vendor}:${e.device}]`),
    h("p", { class: "fn-name" }, lspciName(pciNames(), fn.vendor, fn.device)),
    h("p", {}, `${e.className}, ${e.kind}${fn.driver ? `, driver ${fn.driver}` : ""}`),
    h("p", { class: "fn-group" }, e.group === null ? "no IOMMU group" : `IOMMU group ${e.group}: ${e.members.join(", ")}`),
    h("h4", {}, "Why"),
    h(
      "ol",
      { class: "steps" },
      ...e.steps.map((st) => h("li", { "data-code": st.code }, st.text, " ", h("span", { class: "cite" }, `see ${st.cite}`))),
    ),
    h("h4", {}, "DMA requester IDs"),
    h("ul", { class: "aliases" }, ...e.aliases.map((al) => h("li", { class: `alias-${al.cause}` }, al.text))),
  ];
  if (e.dependsOnUnknownAcs.length) parts.push(h("p", { class: "warn" }, formatUnknownAcsDependency(e.dependsOnUnknownAcs)));
  if (e.members.length > 1) {
    parts.push(h("h4", {}, "What would split it"));
    const ul = h("ul", { class: "splits" });
    for (const sp of e.splits) {
      const tryIt = h("button", { type: "button", class: "small" }, "Try it");
      tryIt.addEventListener("click", () => applySplit(sp.change));
      ul.append(h("li", {}, `${sp.change} → its group becomes {${sp.groupAfter.join(", ")}} `, tryIt, h("p", { class: "warn" }, formatSplitCaveat(sp.stillReachable))));
    }
    if (e.noSplit) ul.append(h("li", {}, `nothing: ${e.noSplit}`));
    parts.push(ul);
  }
  if (fn.acs.state !== "absent" || fn.bridgeKind) parts.push(acsEditor(e.bdf));
  parts.push(assignControls(e.bdf));
  panel.replaceChildren(...parts);
}

/** a split option names a kernel parameter (`pcie_acs_override=downstream`); put it into the what-if */
function applySplit(change: string): void {
  const m = /pcie_acs_override=(\S+)/.exec(change);
  if (!m) {
    status(`cannot apply '${change}' from here; set it in the what-if`);
    return;
  }
  setWhatIf({ ...state.whatif, override: m[1]! });
}

/** per-port ACS bits for the what-if: each flag left alone, forced on or forced off */
function acsEditor(bdf: string): HTMLElement {
  const edit = state.whatif.acs.find((x) => x.bdf === bdf) ?? { bdf, set: 0, clear: 0 };
  const box = h("fieldset", { class: "acs-edit" }, h("legend", {}, "What if this function's ACS bits were…"));
  for (const [name, bit] of ACS_FLAG_NAMES.filter(([n]) => ["SV", "RR", "CR", "UF"].includes(n))) {
    const value = edit.set & bit ? "on" : edit.clear & bit ? "off" : "as is";
    const sel = h("select", { "data-acs": name, "aria-label": `ACS ${name} for ${bdf}` }, ...["as is", "on", "off"].map((v) => h("option", { value: v, selected: v === value }, v)));
    sel.addEventListener("change", () => {
      const set = sel.value === "on" ? edit.set | bit : edit.set & ~bit;
      const clear = sel.value === "off" ? edit.clear | bit : edit.clear & ~bit;
      const others = state.whatif.acs.filter((x) => x.bdf !== bdf);
      setWhatIf({ ...state.whatif, acs: set || clear ? [...others, { bdf, set, clear }] : others });
    });
    box.append(h("label", { class: "check" }, `${name} `, sel));
  }
  return box;
}

// ---------- what-if ----------

const OVERRIDES = ["downstream", "multifunction", "downstream,multifunction"];

function setWhatIf(w: WhatIfState): void {
  state = { ...state, whatif: w };
  refresh();
}

function renderWhatIf(): void {
  const a = analysis!;
  const w = state.whatif;
  const params = sourceParams(a.loaded);
  const host = byId("whatif");
  const kernel = h("input", { id: "wi-kernel", list: "wi-kernels", value: w.kernel, placeholder: `${a.loaded.snapshot.osrelease ?? "6.1 (default)"}`, size: 10 });
  const kernels = h("datalist", { id: "wi-kernels" }, ...["4.19", "5.4", "5.10", "5.15", "6.1", "6.6", "6.8", "6.11", "6.12", "6.13"].map((v) => h("option", { value: v })));
  kernel.addEventListener("change", () => setWhatIf({ ...state.whatif, kernel: kernel.value }));
  const current = w.override ?? params.pcieAcsOverride ?? "";
  const override = h(
    "select",
    { id: "wi-override" },
    h("option", { value: "", selected: current === "" }, "not set"),
    ...[...new Set([...OVERRIDES, current].filter((x) => x !== ""))].map((v) => h("option", { value: v, selected: v === current }, v)),
  );
  override.addEventListener("change", () => setWhatIf({ ...state.whatif, override: override.value === (params.pcieAcsOverride ?? "") && state.whatif.override === undefined ? undefined : override.value }));
  const redir = h("input", { id: "wi-redir", value: w.disableAcsRedir ?? params.disableAcsRedir ?? "", placeholder: "e.g. 0000:00:1c.0;0000:00:1d.0", size: 24 });
  redir.addEventListener("change", () => setWhatIf({ ...state.whatif, disableAcsRedir: redir.value }));
  const cfg = h("input", { id: "wi-config-acs", value: w.configAcs ?? params.configAcs ?? "", placeholder: "e.g. 101xxxx@0000:00:1c.0", size: 24 });
  cfg.addEventListener("change", () => setWhatIf({ ...state.whatif, configAcs: cfg.value }));
  const reset = h("button", { type: "button", id: "wi-reset", disabled: !whatIfActive(w) }, "Back to the source");
  reset.addEventListener("click", () => setWhatIf(NO_WHATIF));
  const out: HTMLElement[] = [
    h("div", { class: "form" },
      h("label", { for: "wi-kernel" }, "Kernel version"), h("span", {}, kernel, kernels),
      h("label", { for: "wi-override" }, "pcie_acs_override="), override,
      h("label", { for: "wi-redir" }, "pci=disable_acs_redir="), redir,
      h("label", { for: "wi-config-acs" }, "pci=config_acs="), cfg,
    ),
    h("p", { class: "help" }, "Per-port ACS bits: select a port and use its ACS box in the function panel."),
    reset,
  ];
  if (a.problem) out.push(h("p", { class: "error", role: "alert" }, a.problem));
  const res = h("div", { id: "whatif-result", "aria-live": "polite" });
  if (a.whatif) {
    const wi = a.whatif;
    const bits = [wi.change.cmdline !== null ? `cmdline '${wi.change.cmdline}'` : "", wi.change.kernel ? `kernel ${wi.change.kernel}` : "", ...wi.change.acs.map((x) => `--acs ${x}`)].filter((x) => x);
    res.append(h("p", {}, `Change: ${bits.join(", ")}`));
    res.append(h("p", { class: "wi-summary" }, `${wi.before.groups.length} groups before, ${wi.after.groups.length} after${wi.acsMode === "boot" ? " (ACS modelled from boot on both sides)" : ""}`));
    const ul = h("ul", { class: "changes" });
    if (wi.changes.length === 0) ul.append(h("li", {}, "no group changes"));
    for (const c of wi.changes) ul.append(h("li", { class: `change-${c.kind}` }, formatGroupChange(c)));
    for (const x of wi.isolationLost) ul.append(h("li", { class: "warn" }, formatIsolationLost(x)));
    for (const x of wi.after.warnings) ul.append(h("li", { class: "warn" }, `warning: ${x}`));
    res.append(ul);
  }
  out.push(res);
  host.replaceChildren(...out);
}

// ---------- plan ----------

const PLAN_HEAD = "schema: iommu-atlas/plan@1\nguests:\n";

/** adds or removes a function from a guest in the plan text (our own simple layout; hand edits are kept when possible) */
function planGuests(text: string): Map<string, string[]> {
  const guests = new Map<string, string[]>();
  let cur: string | undefined;
  for (const line of text.split("\n")) {
    const name = /^\s*- name:\s*(\S+)/.exec(line);
    if (name) guests.set((cur = name[1]!), []);
    const dev = /^\s*devices:\s*\[(.*)\]/.exec(line);
    if (dev && cur) guests.set(cur, dev[1]!.split(",").map((x) => x.trim()).filter((x) => x));
  }
  return guests;
}

function planText(guests: Map<string, string[]>): string {
  return PLAN_HEAD + [...guests].map(([n, d]) => `  - name: ${n}\n    devices: [${d.join(", ")}]\n`).join("");
}

function assignControls(bdf: string): HTMLElement {
  const guests = planGuests(state.plan);
  const name = h("input", { id: "assign-guest", value: [...guests.keys()][0] ?? "vm1", size: 10, "aria-label": "guest name" });
  const inGuest = [...guests].find(([, d]) => d.includes(bdf))?.[0];
  const b = h("button", { type: "button", id: "assign" }, inGuest ? `Remove from guest ${inGuest}` : "Assign to guest");
  b.addEventListener("click", () => {
    const g = planGuests(state.plan);
    if (inGuest) g.set(inGuest, g.get(inGuest)!.filter((x) => x !== bdf));
    else g.set(name.value.trim() || "vm1", [...(g.get(name.value.trim() || "vm1") ?? []), bdf]);
    state = { ...state, plan: planText(g) };
    renderPlan();
    renderPanel();
    saveHash();
  });
  return h("div", { class: "assign row" }, h("h4", {}, "Plan"), inGuest ? "" : name, b);
}

function renderPlan(): void {
  const host = byId("plan");
  const text = h("textarea", { id: "plan-text", rows: 6, spellcheck: "false", "aria-label": "plan YAML" });
  text.value = state.plan;
  const check = h("button", { type: "button", id: "plan-check" }, "Check plan");
  check.addEventListener("click", () => {
    state = { ...state, plan: text.value };
    renderPlan();
    saveHash();
  });
  const out = h("div", { id: "plan-result", "aria-live": "polite" });
  const parts: HTMLElement[] = [h("p", { class: "help" }, "Select a function and press Assign to guest, or paste a plan (docs/plan.md)."), text, h("div", { class: "row" }, check, copyButton(() => state.plan, "Copy plan"))];
  if (analysis && state.plan.trim() !== "") {
    const r = checkPlanText(analysis.loaded, state.plan);
    if (r.kind === "problems") out.append(...r.lines.map((l) => h("p", { class: "error" }, l)));
    if (r.kind === "checked") out.append(...renderCheck(r.json));
  }
  parts.push(out);
  host.replaceChildren(...parts);
}

function renderCheck(c: import("./core.js").plan.CheckJson): HTMLElement[] {
  const n = c.counts;
  const plural = (k: number, w: string): string => `${k} ${w}${k === 1 ? "" : "s"}`;
  const counts = [plural(n.errors, "error"), plural(n.warnings, "warning"), ...(n.info ? [plural(n.info, "note")] : [])].join(", ");
  const out: HTMLElement[] = [
    h("p", { class: `verdict verdict-${c.verdict}`, id: "verdict", "data-verdict": c.verdict }, `${c.verdict === "safe" ? "SAFE" : "UNSAFE"}: ${counts}${n.refused ? `; ${plural(n.refused, "guest alias request")} refused` : ""}`),
  ];
  for (const g of c.guests) out.push(h("p", {}, `guest ${g.name}: ${g.functions.map((f) => `${f.bdf}${f.group === null ? "" : ` (group ${f.group})`}`).join(", ") || "no functions"}`));
  for (const f of c.findings) {
    out.push(h("div", { class: `finding finding-${f.severity}` }, h("p", {}, `${f.severity === "info" ? "note" : f.severity}: ${f.text}`), ...f.details.map((d) => h("p", { class: "detail" }, d))));
  }
  for (const r of c.aliasRequests) {
    out.push(
      h("div", { class: "finding finding-refused" },
        h("p", {}, `refused: guest ${r.guest} asks for ${r.requesterIds.map((x) => x.rid).join(", ")} as DMA aliases of ${r.device} (line ${r.line})${r.reason ? `: "${r.reason}"` : ""}`),
        ...r.requesterIds.flatMap((x) => x.reasons.map((y) => h("p", { class: "detail" }, y.text))),
        ...r.reasons.map((y) => h("p", { class: "detail" }, y.text)),
      ),
    );
  }
  const a = c.actions;
  if (!a) out.push(h("p", { class: "error" }, "no actions: the plan is unsafe; fix the errors above and check again"));
  else {
    const block = (title: string, lines: readonly string[]): HTMLElement =>
      h("div", { class: "action" }, h("div", { class: "row" }, h("h4", {}, title), copyButton(() => lines.join("\n"))), h("pre", {}, lines.join("\n")));
    if (a.sriov.length) out.push(block("SR-IOV first", a.sriov));
    if (a.driverctl.length) out.push(block("driverctl (persists across reboots)", a.driverctl), block("sysfs (until the next reboot)", a.sysfs));
    for (const g of a.guests) {
      if (g.functions.length === 0) continue;
      out.push(block(`libvirt <hostdev>, guest ${g.guest}`, g.libvirt), block(`QEMU, guest ${g.guest}`, [g.qemu.join(" ")]));
    }
  }
  return out;
}

// ---------- share, export, theme ----------

function setupTop(): void {
  byId("share").addEventListener("click", () => {
    if (!writeHash()) {
      status("this input is too large for a link (browsers cut addresses near 2 MB); share the file instead");
      return;
    }
    void navigator.clipboard?.writeText(location.href).then(
      () => status("share link copied: the input travels inside the link, nothing is uploaded"),
      () => status("copy the address bar: the input travels inside the link"),
    );
  });
  byId("export-json").addEventListener("click", () => {
    if (analysis) download("groups.json", new Blob([`${JSON.stringify(analysis.groups satisfies GroupsJson, null, 2)}\n`], { type: "application/json" }));
  });
  byId("export-svg").addEventListener("click", () => {
    const svg = byId("graph").querySelector("svg");
    if (svg) download("topology.svg", exportSvg(svg));
  });
  byId("export-png").addEventListener("click", () => {
    const svg = byId("graph").querySelector("svg");
    if (svg) void exportPng(svg).then((b) => download("topology.png", b), (err: unknown) => status(`PNG export failed: ${String(err)}`));
  });
  const theme = byId("theme");
  const apply = (dark: boolean): void => {
    document.documentElement.dataset["theme"] = dark ? "dark" : "light";
    theme.setAttribute("aria-pressed", String(dark));
    theme.textContent = dark ? "Light theme" : "Dark theme";
  };
  apply(window.matchMedia?.("(prefers-color-scheme: dark)").matches ?? false);
  theme.addEventListener("click", () => apply(document.documentElement.dataset["theme"] !== "dark"));
}

/** `iommu-atlas serve` names the machine to show in a meta tag; fetched from the same origin */
async function preload(): Promise<boolean> {
  const meta = document.querySelector<HTMLMetaElement>('meta[name="iommu-atlas-preload"]');
  if (!meta || location.protocol === "file:") return false;
  const [path, name] = [meta.content, meta.dataset["label"] ?? "source"];
  if (!/^[a-z0-9./-]+$/i.test(path) || path.includes("//")) return false;
  const res = await fetch(path, { credentials: "omit" });
  if (!res.ok) {
    byId("input-error").textContent = `${name}: the server could not send it (${res.status})`;
    return false;
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  setInput({ kind: "bytes", name, data: toBase64(bytes) });
  return true;
}

function start(): void {
  setupInput();
  setupGroupControls();
  setupGraphControls();
  setupTop();
  const shared = decodeState(location.hash);
  if (typeof shared === "string") byId("input-error").textContent = shared;
  else if (shared) {
    byId<HTMLInputElement>("search").value = shared.search;
    for (const key of shared.hidden) {
      const box = document.getElementById(`filter-${key}`) as HTMLInputElement | null;
      if (box) box.checked = false;
    }
    if (shared.input.kind === "text") byId<HTMLTextAreaElement>("paste").value = shared.input.text;
    setInput(shared.input, { whatif: shared.whatif, selected: shared.selected, search: shared.search, hidden: shared.hidden, toggled: shared.toggled, plan: shared.plan });
    return;
  }
  void preload().then((preloaded) => {
    if (!preloaded)
      setTimeout(() => {
        warmUpLayout();
        pciNames();
      }, 50);
  });
}

start();
