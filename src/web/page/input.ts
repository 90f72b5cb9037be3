/** An input the page holds (pasted, dropped, an example, or from a shared link), read into a machine. */
import { excerpt } from "../../core/excerpt.js";
import { loadBytes, loadText } from "./engine.js";
import type { LoadResult } from "./engine.js";
import { EXAMPLES } from "./examples.js";
import { fromBase64 } from "./share.js";
import type { InputState } from "./state.js";

/** a file name as messages and the JSON show it (a dropped file's or a link's name may hold anything) */
const label = (name: string): string => excerpt(name, 255);

/** undefined: no input */
export function loadInput(input: InputState): LoadResult | undefined {
  switch (input.kind) {
    case "none":
      return undefined;
    case "example": {
      const ex = EXAMPLES.find((e) => e.id === input.id);
      if (!ex) return { ok: false, message: `no bundled example '${excerpt(input.id, 60)}'; pick one from the gallery` };
      return ex.base64 !== undefined ? loadBytes(fromBase64(ex.base64), ex.file) : loadText(ex.text ?? "", ex.file);
    }
    case "text":
      return loadText(input.text, label(input.name));
    case "bytes": {
      let bytes: Uint8Array;
      try {
        bytes = fromBase64(input.data);
      } catch {
        return { ok: false, message: `${excerpt(input.name, 60)}: the link's copy of the file is damaged (not base64); drop or paste the file again` };
      }
      return loadBytes(bytes, label(input.name));
    }
  }
}
