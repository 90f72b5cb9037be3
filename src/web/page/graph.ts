/**
 * The topology graph: root buses → root ports → switches → endpoints, laid
 * out by elkjs (layered, left to right). Each function carries its IOMMU
 * group as a coloured stripe and a numbered badge, ports show their ACS
 * state, and DMA aliases are drawn as their own dashed edges. Everything
 * shown comes from the prediction's records.
 */
import * as elkModule from "elkjs/lib/elk.bundled.js";
import type { ElkExtendedEdge, ElkNode } from "elkjs/lib/elk-api.js";
import { acsFlagsText, busKey, className, devId, dmaAliases, formatRid, functionKindName, hex4 } from "./core.js";
import type { PciFunction, Prediction } from "./core.js";
import { s } from "./dom.js";
import { groupColour, groupTextColour } from "./palette.js";

const FN_W = 232;
const FN_H = 62;
const BUS_W = 132;
const BUS_H = 30;
/** above this many functions, switches start closed */
export const COLLAPSE_ABOVE = 200;

interface VNode {
  readonly id: string;
  readonly kind: "bus" | "fn" | "switch" | "rid";
  readonly fn: PciFunction | undefined;
  /** for a closed switch: functions hidden below it */
  readonly hidden: number;
  readonly hiddenGroups: number;
  readonly width: number;
  readonly height: number;
  /** for a requester ID no function owns */
  readonly rid?: number;
}

export interface GraphInput {
  readonly prediction: Prediction;
  readonly selected: string | undefined;
  readonly changed: ReadonlySet<string>;
  /** switches whose open/closed state differs from the default */
  readonly toggled: ReadonlySet<string>;
}

export interface GraphHandlers {
  select(bdf: string): void;
  toggleSwitch(bdf: string): void;
}

/** the parent of each function in the drawing: the bridge above its bus, its PF for a VF, else its root bus */
function parentOf(fn: PciFunction): string {
  if (fn.isVirtfn && fn.physfn) return fn.physfn;
  return fn.upstream ?? `bus:${busKey(fn.segment, fn.bus)}`;
}

export function switchesClosedByDefault(p: Prediction): boolean {
  return p.topology.functions.size > COLLAPSE_ABOVE;
}

function isPortLike(fn: PciFunction): boolean {
  return fn.bridgeKind !== undefined || fn.acs.state === "present";
}

/** the visible nodes and tree edges, with closed switches folded */
function visibleTree(input: GraphInput): { nodes: VNode[]; edges: [string, string][]; shownAs: Map<string, string> } {
  const t = input.prediction.topology;
  const children = new Map<string, string[]>();
  const roots: string[] = [];
  for (const bdf of t.scanOrder) {
    const fn = t.functions.get(bdf);
    if (!fn) continue;
    const parent = parentOf(fn);
    if (parent.startsWith("bus:") && !children.has(parent)) {
      children.set(parent, []);
      roots.push(parent);
    }
    let list = children.get(parent);
    if (!list) children.set(parent, (list = []));
    list.push(bdf);
  }
  const closedDefault = switchesClosedByDefault(input.prediction);
  const groupOf = input.prediction.groups.groupOf;
  const nodes: VNode[] = [];
  const edges: [string, string][] = [];
  /** every function → the node that shows it (itself, or the closed switch above it) */
  const shownAs = new Map<string, string>();
  const hide = (id: string, under: string, groups: Set<number>): number => {
    let n = 0;
    for (const c of children.get(id) ?? []) {
      shownAs.set(c, under);
      const g = groupOf.get(c);
      if (g !== undefined) groups.add(g);
      n += 1 + hide(c, under, groups);
    }
    return n;
  };
  const walk = (id: string, parent: string | undefined): void => {
    const fn = id.startsWith("bus:") ? undefined : t.functions.get(id);
    if (parent !== undefined) edges.push([parent, id]);
    if (!fn) {
      nodes.push({ id, kind: "bus", fn: undefined, hidden: 0, hiddenGroups: 0, width: BUS_W, height: BUS_H });
    } else {
      shownAs.set(id, id);
      const isSwitch = fn.bridgeKind === "upstream-port" && (children.get(id)?.length ?? 0) > 0;
      const closed = isSwitch && closedDefault !== input.toggled.has(id);
      if (closed) {
        const groups = new Set<number>();
        const hidden = hide(id, id, groups);
        nodes.push({ id, kind: "switch", fn, hidden, hiddenGroups: groups.size, width: FN_W, height: FN_H + 14 });
        return;
      }
      nodes.push({ id, kind: "fn", fn, hidden: 0, hiddenGroups: 0, width: FN_W, height: isPortLike(fn) || fn.bridgeKind === "upstream-port" ? FN_H + 14 : FN_H });
    }
    for (const c of children.get(id) ?? []) walk(c, id);
  };
  for (const r of [...roots].sort()) walk(r, undefined);
  return { nodes, edges, shownAs };
}

// a CommonJS module: the constructor is the export itself or its default, depending on the bundler's interop
type ElkCtor = new () => { layout(graph: ElkNode): Promise<ElkNode> };
const ns = elkModule as unknown as { default?: ElkCtor | { default?: ElkCtor } };
const ELK: ElkCtor = typeof ns.default === "function" ? ns.default : (ns.default as { default: ElkCtor }).default;
const elk = new ELK();

/** lays out a tiny graph once the page is idle, so the first real layout does not pay elkjs's start-up */
export function warmUpLayout(): void {
  void elk.layout({ id: "warm", children: [{ id: "a", width: 10, height: 10 }, { id: "b", width: 10, height: 10 }], edges: [{ id: "e", sources: ["a"], targets: ["b"] }] });
}

export interface DrawnGraph {
  readonly svg: SVGSVGElement;
  readonly nodeCount: number;
}

/** the ACS line of a port: capability bits with the control value the prediction uses (captured, or as the kernel enables it at boot) */
function acsLine(p: Prediction, fn: PciFunction): string | undefined {
  if (fn.acs.state === "present") return `ACS ${acsFlagsText(fn.acs.cap, p.ctrl.ctrl.get(fn.bdf) ?? fn.acs.ctrl) || "(no flags)"}`;
  if (fn.acs.state === "unknown") return fn.bridgeKind ? "ACS unknown (not captured)" : undefined;
  return fn.bridgeKind && fn.isPcie ? "no ACS capability" : undefined;
}

function label(p: Prediction, fn: PciFunction, group: number | undefined): string {
  const acs = acsLine(p, fn);
  return `${fn.bdf}, ${className(fn.classCode)} [${hex4(fn.vendor)}:${hex4(fn.device)}], ${functionKindName(fn)}, ${group === undefined ? "no IOMMU group" : `IOMMU group ${group}`}${acs ? `, ${acs}` : ""}`;
}

const short = (bdf: string): string => bdf.replace(/^0000:/, "");

/** a box line cut to its width (the full text is in the box's label and the panel) */
const fit = (text: string, max = 36): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

export async function drawGraph(input: GraphInput, on: GraphHandlers): Promise<DrawnGraph> {
  const p = input.prediction;
  const { nodes, edges, shownAs } = visibleTree(input);
  // DMA aliases of the visible functions; a requester ID no function owns (an NTB proxy ID, a phantom
  // function) becomes a small node of its own, placed by the layout right of the function
  const ridOwner = new Map<string, string>();
  for (const fn of p.topology.functions.values()) ridOwner.set(`${fn.segment}:${devId(fn.bus, fn.devfn)}`, fn.bdf);
  const aliasEdges: { from: string; to: string; cause: string; title: string }[] = [];
  const layoutEdges: [string, string][] = [...edges];
  for (const n of [...nodes]) {
    if (n.kind !== "fn") continue;
    const fn = n.fn!;
    for (const a of dmaAliases(p.topology, p.props, fn)) {
      if (a.cause === "own") continue;
      const what = a.cause === "quirk" ? `quirk ${a.source}` : a.cause === "bridge" ? `via ${a.rule} ${short(a.via)}` : `VMD ${short(a.via)}`;
      const title = `${short(fn.bdf)}: DMA alias ${formatRid(a.rid)} (${what})`;
      const ownerBdf = a.cause === "quirk" ? ridOwner.get(`${fn.segment}:${a.rid}`) : a.via;
      const owner = ownerBdf !== undefined ? shownAs.get(ownerBdf) : undefined;
      if (owner === n.id) continue;
      if (owner !== undefined) {
        aliasEdges.push({ from: n.id, to: owner, cause: a.cause, title });
        continue;
      }
      const id = `rid:${fn.segment}:${a.rid}`;
      if (!nodes.some((x) => x.id === id)) {
        nodes.push({ id, kind: "rid", fn: undefined, hidden: 0, hiddenGroups: 0, width: 110, height: 22, rid: a.rid });
        layoutEdges.push([n.id, id]);
      }
      aliasEdges.push({ from: n.id, to: id, cause: a.cause, title });
    }
  }
  const graph: ElkNode = {
    id: "root",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "RIGHT",
      "elk.edgeRouting": "ORTHOGONAL",
      "elk.layered.mergeEdges": "true",
      "elk.layered.spacing.nodeNodeBetweenLayers": "30",
      "elk.spacing.nodeNode": "10",
      "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
      // a tree needs little crossing minimisation: one pass keeps large machines fast (docs/web.md)
      "elk.layered.thoroughness": "1",
      "elk.layered.crossingMinimization.greedySwitch.type": "OFF",
      "elk.layered.nodePlacement.strategy": "SIMPLE",
      "elk.padding": "[top=16,left=16,bottom=16,right=16]",
    },
    children: nodes.map((n) => ({ id: n.id, width: n.width, height: n.height })),
    edges: layoutEdges.map(([a, b], i): ElkExtendedEdge => ({ id: `e${i}`, sources: [a], targets: [b] })),
  };
  const laid = await elk.layout(graph);
  const pos = new Map<string, { x: number; y: number; w: number; h: number }>();
  for (const c of laid.children ?? []) pos.set(c.id, { x: c.x ?? 0, y: c.y ?? 0, w: c.width ?? 0, h: c.height ?? 0 });
  const width = Math.ceil(laid.width ?? 0);
  const height = Math.ceil((laid.height ?? 0) + 40);

  const svg = s("svg", {
    xmlns: "http://www.w3.org/2000/svg",
    class: "topology",
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: "group",
    "aria-label": `PCI topology: ${p.topology.functions.size} functions in ${p.groups.groups.length} IOMMU groups`,
  });
  svg.append(
    s(
      "defs",
      {},
      s("marker", { id: "alias-arrow", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "11", markerHeight: "11", markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" }, s("path", { d: "M0,0 L10,5 L0,10 z", class: "alias-head" })),
    ),
  );
  const edgeLayer = s("g", { class: "tree-edges", "aria-hidden": "true" });
  for (const e of laid.edges ?? []) {
    if (e.targets[0]?.startsWith("rid:")) continue;
    for (const sec of e.sections ?? []) {
      const pts = [sec.startPoint, ...(sec.bendPoints ?? []), sec.endPoint];
      edgeLayer.append(s("path", { d: pts.map((q, i) => `${i ? "L" : "M"}${q.x},${q.y}`).join(" "), class: "tree-edge" }));
    }
  }
  svg.append(edgeLayer);

  const selGroup = input.selected !== undefined ? p.groups.groupOf.get(input.selected) : undefined;
  const nodeLayer = s("g", { class: "nodes" });
  for (const n of nodes) {
    const q = pos.get(n.id)!;
    if (n.kind === "rid") {
      nodeLayer.append(
        s("g", { class: "rid", transform: `translate(${q.x},${q.y})` }, s("rect", { width: q.w, height: q.h, rx: 3, class: "phantom" }), s("text", { x: 8, y: 15, class: "phantom-text" }, `RID ${formatRid(n.rid!)} (no function)`)),
      );
      continue;
    }
    if (n.kind === "bus") {
      nodeLayer.append(
        s("g", { class: "bus", transform: `translate(${q.x},${q.y})` }, s("rect", { width: q.w, height: q.h, rx: 4, class: "bus-box" }), s("text", { x: 10, y: 20, class: "bus-text" }, `root bus ${n.id.slice(4)}`)),
      );
      continue;
    }
    const fn = n.fn!;
    const group = p.groups.groupOf.get(fn.bdf);
    const classes = ["node", n.kind];
    if (fn.bdf === input.selected) classes.push("selected");
    else if (selGroup !== undefined && group === selGroup) classes.push("same-group");
    if (input.changed.has(fn.bdf)) classes.push("changed");
    const g = s("g", {
      class: classes.join(" "),
      transform: `translate(${q.x},${q.y})`,
      tabindex: 0,
      role: "button",
      "data-bdf": fn.bdf,
      "data-group": group ?? "none",
      "aria-label": n.kind === "switch" ? `${label(p, fn, group)}; switch closed, ${n.hidden} functions hidden; press Enter to open` : label(p, fn, group),
    });
    g.append(s("rect", { width: q.w, height: q.h, rx: 5, class: "box" }));
    g.append(s("rect", { width: 8, height: q.h, rx: 2, fill: group === undefined ? "none" : groupColour(group), class: "stripe" }));
    g.append(s("text", { x: 16, y: 18, class: "t1" }, short(fn.bdf)));
    g.append(s("text", { x: 16, y: 34, class: "t2" }, fit(className(fn.classCode))));
    g.append(s("text", { x: 16, y: 50, class: "t2" }, fit(`[${hex4(fn.vendor)}:${hex4(fn.device)}] ${functionKindName(fn)}`)));
    g.append(s("title", {}, label(p, fn, group)));
    const acs = acsLine(p, fn);
    if (n.kind === "switch") {
      g.append(s("text", { x: 16, y: 66, class: "t3" }, `▸ ${n.hidden} functions below, ${n.hiddenGroups} groups (Enter opens)`));
    } else if (acs) {
      g.append(s("text", { x: 16, y: 66, class: fn.acs.state === "present" ? "t3 acs" : "t3 acs-missing" }, acs));
    } else if (fn.bridgeKind === "upstream-port") {
      g.append(s("text", { x: 16, y: 66, class: "t3" }, "▾ switch (Enter closes)"));
    }
    // the group badge: number in a coloured pill, so colour is never the only carrier
    const badge = s("g", { class: "badge", transform: `translate(${q.w - 44},6)` });
    badge.append(s("rect", { width: 38, height: 18, rx: 9, fill: group === undefined ? "none" : groupColour(group), class: group === undefined ? "badge-none" : "badge-box" }));
    badge.append(s("text", { x: 19, y: 13, "text-anchor": "middle", fill: group === undefined ? "currentColor" : groupTextColour(group), class: "badge-text" }, group === undefined ? "—" : `G${group}`));
    g.append(badge);
    if (input.changed.has(fn.bdf)) g.append(s("text", { x: q.w - 50, y: 19, "text-anchor": "end", class: "changed-text" }, "changed"));
    g.addEventListener("click", () => (n.kind === "switch" && fn.bdf === input.selected ? on.toggleSwitch(fn.bdf) : on.select(fn.bdf)));
    g.addEventListener("keydown", (ev) => {
      // arrows walk the boxes in drawing order (parents before children), Home/End jump to the ends
      const moves: Record<string, (list: SVGGElement[], i: number) => number> = {
        ArrowDown: (_l, i) => i + 1,
        ArrowRight: (_l, i) => i + 1,
        ArrowUp: (_l, i) => i - 1,
        ArrowLeft: (_l, i) => i - 1,
        Home: () => 0,
        End: (l) => l.length - 1,
      };
      const move = moves[ev.key];
      if (move) {
        ev.preventDefault();
        const list = [...nodeLayer.querySelectorAll<SVGGElement>("g.node")];
        list[Math.max(0, Math.min(list.length - 1, move(list, list.indexOf(g))))]?.focus();
        return;
      }
      if (ev.key === "Enter" || ev.key === " ") {
        ev.preventDefault();
        if (fn.bridgeKind === "upstream-port" && (n.kind === "switch" || fn.bdf === input.selected)) on.toggleSwitch(fn.bdf);
        else on.select(fn.bdf);
      }
    });
    nodeLayer.append(g);
  }

  // DMA aliases, drawn above the tree: into the bottom of the node that owns the requester ID
  const aliasLayer = s("g", { class: "alias-edges" });
  for (const e of aliasEdges) {
    const f = pos.get(e.from)!;
    const t = pos.get(e.to)!;
    let d: string;
    if (e.to.startsWith("rid:")) {
      const x0 = f.x + f.w;
      const y0 = f.y + f.h / 2;
      d = `M${x0},${y0} C${x0 + 24},${y0} ${t.x - 24},${t.y + t.h / 2} ${t.x - 2},${t.y + t.h / 2}`;
    } else {
      const x0 = f.x;
      const y0 = f.y + f.h * 0.7;
      const x1 = t.x + t.w / 2;
      const y1 = t.y + t.h;
      d = `M${x0},${y0} C${x0 - 40},${y0 + 24} ${x1},${y1 + 36} ${x1},${y1 + 2}`;
    }
    aliasLayer.append(s("path", { d, class: `alias-edge alias-${e.cause}`, "marker-end": "url(#alias-arrow)", "data-from": e.from, "data-to": e.to }, s("title", {}, e.title)));
  }
  svg.append(nodeLayer);
  svg.append(aliasLayer);
  return { svg, nodeCount: nodes.length };
}
