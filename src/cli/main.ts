import { oneLine } from "../core/excerpt.js";
import { buildProgram, commanderExit } from "./cli.js";
import { ExitError, InputError, UsageError } from "./errors.js";
import { stdio } from "./output.js";
import type { Output } from "./output.js";
import { OutputError, SourceError } from "./sysfs/errors.js";

/** the longest error line printed */
const MAX_LINE = 1000;

const BUG_HINT = "this is a bug in iommu-atlas; please report it with the command and, if you can, the capture";

/**
 * Runs the CLI and returns the exit code. The one place errors are caught:
 * bad input and usage give one line and 2; anything else is a bug.
 */
export async function main(argv: readonly string[], io: Output = stdio): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync([...argv], { from: "user" });
    return code;
  } catch (err) {
    try {
      const c = commanderExit(err);
      if (c !== undefined) return c;
    } catch (usage) {
      err = usage;
    }
    if (err instanceof ExitError) return err.code;
    // one printable line whatever the message holds (user text in it is escaped and cut)
    if (err instanceof UsageError || err instanceof SourceError || err instanceof InputError || err instanceof OutputError) {
      io.err(oneLine(`iommu-atlas: ${err.message}`, MAX_LINE));
      return 2;
    }
    const message = err instanceof Error ? err.message : String(err);
    io.err(oneLine(`iommu-atlas: internal error: ${message.split("\n")[0]}; ${BUG_HINT}`, MAX_LINE));
    if (process.env.IOMMU_ATLAS_DEBUG && err instanceof Error) io.err(err.stack ?? "");
    return 70;
  }
}
