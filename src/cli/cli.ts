import { Command, CommanderError } from "commander";
import type { Output } from "./output.js";
import { UsageError } from "./errors.js";

/** builds the command tree; each action lazy-imports its command module */
export function buildProgram(io: Output, setCode: (code: number) => void): Command {
  const program = new Command("iommu-atlas")
    .description("Shows which PCI devices an IOMMU can really keep apart, and why.")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.trimEnd()),
      writeErr: (s) => io.err(s.trimEnd()),
      outputError: () => undefined, // main prints one line
    });

  const sourceArg = "[source]";
  const sourceHelp = "a capture (.tar.gz), a sysfs folder; default: this host";

  program
    .command("show")
    .description("one line per PCI function, lspci-like")
    .argument(sourceArg, sourceHelp)
    .option("--json", "machine-readable output (schema iommu-atlas/show@1)")
    .action(async (source: string | undefined, o: { json?: boolean }) => {
      const { show } = await import("./commands/show.js");
      setCode(await show({ source, json: o.json }, io));
    });

  program
    .command("tree")
    .description("the bus tree like lspci -tv, with port types and ACS state")
    .argument(sourceArg, sourceHelp)
    .option("--json", "machine-readable output (schema iommu-atlas/tree@1)")
    .action(async (source: string | undefined, o: { json?: boolean }) => {
      const { tree } = await import("./commands/tree.js");
      setCode(await tree({ source, json: o.json }, io));
    });

  program
    .command("capture")
    .description("write a capture archive of this host's PCI/IOMMU state")
    .option("-o, --output <file>", "archive to write (.tar.gz)")
    .option("--redact", "zero device serial numbers")
    .option("--root <dir>", "read sysfs/procfs below this folder instead of /")
    .action(async (o: { output?: string; redact?: boolean; root?: string }) => {
      const { capture } = await import("./commands/capture.js");
      setCode(await capture({ ...o, log: (line) => io.out(line) }));
    });

  program
    .command("start", { hidden: true })
    .description("the main job on this host (npm start)")
    .action(async () => {
      const { start } = await import("./commands/start.js");
      setCode(await start(io));
    });

  return program;
}

/** turns commander's own errors into usage errors (exit 2) or a clean exit for --help/--version */
export function commanderExit(err: unknown): number | undefined {
  if (!(err instanceof CommanderError)) return undefined;
  if (err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.code === "commander.help") return 0;
  if (err.exitCode === 0) return 0;
  throw new UsageError(`${err.message.replace(/^error: /, "")}; run 'iommu-atlas --help' for usage`);
}
