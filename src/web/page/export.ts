/**
 * Graph export: the drawn SVG with the graph's styles embedded (resolved
 * for the current theme), and a PNG rendered from it on a canvas. Both
 * stay in the browser (object URLs).
 */
import graphCss from "./graph.css?raw";

const GRAPH_VARS = ["--bg", "--fg", "--muted", "--card", "--border", "--edge", "--alias", "--focus", "--warn", "--changed"];

function standalone(svg: SVGSVGElement): string {
  const copy = svg.cloneNode(true) as SVGSVGElement;
  const css = getComputedStyle(document.documentElement);
  const vars = GRAPH_VARS.map((v) => `${v}:${css.getPropertyValue(v).trim()}`).join(";");
  const style = document.createElementNS("http://www.w3.org/2000/svg", "style");
  style.textContent = `svg{${vars}}\n${graphCss}`;
  copy.insertBefore(style, copy.firstChild);
  const bg = document.createElementNS("http://www.w3.org/2000/svg", "rect");
  for (const [k, v] of [["width", "100%"], ["height", "100%"], ["fill", css.getPropertyValue("--bg").trim() || "#fff"]] as const) bg.setAttribute(k, v);
  copy.insertBefore(bg, style.nextSibling);
  return new XMLSerializer().serializeToString(copy);
}

export function exportSvg(svg: SVGSVGElement): Blob {
  return new Blob([standalone(svg)], { type: "image/svg+xml" });
}

export async function exportPng(svg: SVGSVGElement, scale = 2): Promise<Blob> {
  const url = URL.createObjectURL(exportSvg(svg));
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    const w = svg.width.baseVal.value;
    const hgt = svg.height.baseVal.value;
    // browsers cap canvas sizes; large machines export at a smaller scale
    const k = Math.min(scale, 16_000 / Math.max(w, hgt, 1));
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(w * k));
    canvas.height = Math.max(1, Math.round(hgt * k));
    const ctx = canvas.getContext("2d");
    if (!ctx) throw new Error("no 2D canvas");
    ctx.scale(k, k);
    ctx.drawImage(img, 0, 0);
    return await new Promise<Blob>((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("the canvas gave no PNG"))), "image/png"));
  } finally {
    URL.revokeObjectURL(url);
  }
}
