/** plain-text tables and CSV for list outputs */

export type Cell = string | number | boolean | null;

/** columns padded to their widest cell, two spaces apart; the header first */
export function renderTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string[] {
  const text = (c: Cell): string => (c === null ? "-" : typeof c === "boolean" ? (c ? "yes" : "no") : String(c));
  const cells = [headers, ...rows.map((r) => r.map(text))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd());
}

/** RFC 4180 CSV: a header line, then one line per row; null is an empty field */
export function csvText(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const field = (c: Cell): string => {
    const t = c === null ? "" : String(c);
    return /[",\r\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
  };
  return [headers, ...rows].map((r) => r.map(field).join(",")).join("\r\n") + "\r\n";
}
