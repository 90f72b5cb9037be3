/**
 * `lspci -t` / `-tv` / `-tvnn` trees:
 *
 *     -+-[0000:00]-+-00.0  Host bridge name
 *      |           +-02.0-[01-09]----00.0-[02-09]--+-00.0-[03]----00.0
 *      |           |                               \-01.0-[04]--
 *      \-[0000:40]-+-00.0-[41]----00.0
 *
 * `[dddd:bb]` opens a root bus, `dd.f-[ss-ee]` a bridge's secondary bus
 * (`[ss]` when secondary = subordinate). A device hangs either straight off
 * the bus just opened (`----00.0`) or off a branch column (`+-`, `\-`) whose
 * bus was fixed on the line that opened it; `|` only carries a column down.
 */
import { decAt, hexAt, isHexDigit } from "./caps.js";
import { lastIds } from "./device-line.js";
import type { TreeNode } from "./record.js";

interface BusRef {
  readonly segment: number;
  readonly bus: number;
}

export class TreeReader {
  readonly nodes: TreeNode[] = [];
  readonly #columns = new Map<number, BusRef>();

  /** true when the line at `p` has the shape of a tree line */
  static looksLikeTree(text: string, p: number): boolean {
    const c = text.charCodeAt(p);
    if (c === 45 /* - */) {
      const d = text.charCodeAt(p + 1);
      return d === 91 /* [ */ || (d === 43 /* + */ && text.charCodeAt(p + 2) === 45 && text.charCodeAt(p + 3) === 91);
    }
    if (c === 43 || c === 92 /* \ */) return text.charCodeAt(p + 1) === 45;
    return c === 124 /* | */;
  }

  /** true when the line at `p` can start a tree (a root bus) */
  static startsTree(text: string, p: number): boolean {
    return text.startsWith("-[", p) || text.startsWith("-+-[", p);
  }

  /** reads one line; columns are measured from `base` so quote markers do not shift them */
  read(text: string, base: number, line: number): number {
    let attach: BusRef | undefined;
    let opened: BusRef | undefined;
    let last: TreeNode | undefined;
    let added = 0;
    let i = base;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      const col = i - base;
      if (c === 45 || c === 124) {
        i++;
      } else if (c === 32 || c === 9) {
        attach = undefined;
        i++;
      } else if (c === 43 || c === 92) {
        if (opened) {
          this.#columns.set(col, opened);
          attach = opened;
          opened = undefined;
        } else attach = this.#columns.get(col);
        i++;
      } else if (c === 91 /* [ */) {
        const close = text.indexOf("]", i);
        if (close < 0) break;
        const body = text.slice(i + 1, close);
        const colon = body.indexOf(":");
        if (colon >= 0) {
          const seg = hexAt(body, 0, 8);
          const bus = hexAt(body, colon + 1, 2);
          if (!seg || !bus) break;
          opened = { segment: seg[0], bus: bus[0] };
        } else {
          const sec = hexAt(body, 0, 2);
          if (!sec) break;
          const dash = body.indexOf("-");
          const sub = dash >= 0 ? hexAt(body, dash + 1, 2) : undefined;
          if (last) {
            last.secondary = sec[0];
            last.subordinate = sub ? sub[0] : sec[0];
            opened = { segment: last.segment, bus: sec[0] };
          } else {
            // an old tree without domains: `-[00]-+-…`
            opened = { segment: 0, bus: sec[0] };
          }
        }
        attach = opened;
        last = undefined;
        i = close + 1;
      } else if (isHexDigit(c) && text.charCodeAt(i + 2) === 46) {
        const slot = hexAt(text, i, 2);
        const fn = decAt(text, i + 3);
        if (!slot || !fn || slot[0] > 0x1f || fn[0] > 7 || !attach) break;
        const node: TreeNode = { line, segment: attach.segment, bus: attach.bus, devfn: (slot[0] << 3) | fn[0] };
        this.nodes.push(node);
        added++;
        last = node;
        attach = undefined;
        opened = undefined;
        i += 4;
        if (text.charCodeAt(i) === 32) {
          // `-tv` name, `-tvnn` ids at its end
          const ids = lastIds(text.slice(i));
          if (ids) {
            node.vendor = ids[0];
            node.device = ids[1];
          } else {
            const name = text.slice(i).trim();
            if (name.length > 0) node.vendorName = name;
          }
          break;
        }
      } else break;
    }
    return added;
  }
}
