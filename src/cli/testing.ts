import type { Output } from "./output.js";

/** an Output that records what a command printed, for tests */
export function recorder(): Output & { text: () => string; errors: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return { out: (s) => out.push(s), err: (s) => err.push(s), color: false, text: () => out.join("\n"), errors: () => err.join("\n") };
}
