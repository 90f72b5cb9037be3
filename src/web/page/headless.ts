/**
 * The page's reading of a shared link and of the input it carries, without
 * the DOM: built for Node by `vite build --mode headless` so that
 * `npm run fuzz` (reader `fragment`) feeds the page's own code.
 */
export { decodeState, encodeState, fromBase64, toBase64 } from "./share.js";
export { analyse, checkPlanText, explain } from "./engine.js";
export { loadInput } from "./input.js";
export { EXAMPLES } from "./examples.js";
export { ACS_FLAG_NAMES } from "./core.js";
