import { Command, CommanderError } from "commander";
import type { Output } from "./output.js";
import { UsageError } from "./errors.js";
import { collect } from "./options.js";
import { VERSION } from "./version.js";
import type { PredictFlags } from "./options.js";

/** the options every group prediction takes */
function predictionOptions(cmd: Command, withAcs = true): Command {
  cmd
    .option("--kernel <version>", "kernel release to model (default: the source's, else 6.1)")
    .option("--cmdline <text>", "kernel command line to model (default: the source's /proc/cmdline)")
    .option("--boot", "model ACS control as the kernel enables it at boot instead of the captured values")
    .option("--hotplug", "model Switchtec NT functions as hot-added: their proxy aliases are programmed but do not change groups")
    .option("--arch <arch>", "x86 or arm64 (default: the source's; arm64 groups form at driver probe)")
    .option("--firmware <kind>", "arm64: acpi (IORT: ACS requested before the scan) or devicetree (after it); default: the source's, else acpi")
    .option("--bind <bdf=driver>", "arm64 what if: a driver probes this function (it gets a group, after the functions already bound) (repeatable)", collect);
  if (withAcs) cmd.option("--acs <bdf=+FLAGS>", "what if: set or clear ACS bits, e.g. 0000:00:1c.0=+RR+CR (repeatable)", collect);
  return cmd;
}

/** builds the command tree; each action lazy-imports its command module */
export function buildProgram(io: Output, setCode: (code: number) => void): Command {
  const program = new Command("iommu-atlas")
    .description("Shows which PCI devices an IOMMU can really keep apart, and why.")
    .version(VERSION, "-V, --version")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.trimEnd()),
      writeErr: (s) => io.err(s.trimEnd()),
      outputError: () => undefined, // main prints one line
    });

  const sourceArg = "[source]";
  const sourceHelp = "a capture (.tar.gz), a sysfs folder, lspci output or a design, a file or - for stdin; default: this host";

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

  predictionOptions(
    program
      .command("groups")
      .description("the IOMMU groups Linux forms, numbers included, and why")
      .argument(sourceArg, sourceHelp)
      .option("--json", "machine-readable output (schema iommu-atlas/groups@1)")
      .option("-v, --verbose", "print each member's reason chain"),
  ).action(async (source: string | undefined, o: PredictFlags & { json?: boolean; verbose?: boolean }) => {
    const { groups } = await import("./commands/groups.js");
    setCode(await groups({ ...o, source }, io));
  });

  predictionOptions(
    program
      .command("explain")
      .description("why a function is in its group, and what would split it")
      .argument("<bdf>", "the function, e.g. 0000:01:00.0")
      .argument(sourceArg, sourceHelp)
      .option("--json", "machine-readable output (schema iommu-atlas/explain@1)"),
  ).action(async (bdf: string, source: string | undefined, o: PredictFlags & { json?: boolean }) => {
    const { explain } = await import("./commands/explain.js");
    setCode(await explain({ ...o, bdf, source }, io));
  });

  predictionOptions(
    program
      .command("diff")
      .description("prediction vs the kernel's recorded groups; exit 0 identical, 1 different")
      .argument(sourceArg, sourceHelp)
      .option("--json", "machine-readable output (schema iommu-atlas/diff@1)"),
  ).action(async (source: string | undefined, o: PredictFlags & { json?: boolean }) => {
    const { diff } = await import("./commands/diff.js");
    setCode(await diff({ ...o, source }, io));
  });

  predictionOptions(
    program
      .command("whatif")
      .description("groups before and after a change: --cmdline, --kernel or --acs")
      .argument(sourceArg, sourceHelp)
      .option("--json", "machine-readable output (schema iommu-atlas/whatif@1)"),
  ).action(async (source: string | undefined, o: PredictFlags & { json?: boolean }) => {
    const { whatif } = await import("./commands/whatif.js");
    setCode(await whatif({ ...o, source }, io));
  });

  predictionOptions(
    program
      .command("aliases")
      .description("per function, the requester IDs its DMA may carry, in walk order, with causes")
      .argument(sourceArg, sourceHelp)
      .option("--json", "machine-readable output (schema iommu-atlas/aliases@1)"),
    false,
  ).action(async (source: string | undefined, o: PredictFlags & { json?: boolean }) => {
    const { aliases } = await import("./commands/aliases.js");
    setCode(await aliases({ ...o, source }, io));
  });

  predictionOptions(
    program
      .command("whois")
      .description("which functions can emit a requester ID, and why (exit 1: none)")
      .argument("<rid>", "requester ID, e.g. 02:00.0 or 0000:02:00.0")
      .argument(sourceArg, sourceHelp)
      .option("--json", "machine-readable output (schema iommu-atlas/whois@1)"),
    false,
  ).action(async (rid: string, source: string | undefined, o: PredictFlags & { json?: boolean }) => {
    const { whois } = await import("./commands/aliases.js");
    setCode(await whois({ ...o, rid, source }, io));
  });

  predictionOptions(
    program
      .command("fault")
      .description("read pasted IOMMU fault lines (DMAR, AMD-Vi, SMMUv3): who can emit each requester ID, whether an alias covers it, the likely cause")
      .argument("<lines>", "the fault line(s) as dmesg prints them, or - to read a dmesg excerpt from stdin")
      .argument(sourceArg, sourceHelp)
      .option("--json", "machine-readable output (schema iommu-atlas/fault@1)"),
    false,
  ).action(async (lines: string, source: string | undefined, o: PredictFlags & { json?: boolean }) => {
    const { fault } = await import("./commands/fault.js");
    setCode(await fault({ ...o, lines, source }, io));
  });

  predictionOptions(
    program
      .command("units")
      .description("the IOMMU units (DMAR / IVRS), their scopes, what each covers and what none covers")
      .argument(sourceArg, sourceHelp)
      .option("--json", "machine-readable output (schema iommu-atlas/units@1)"),
    false,
  ).action(async (source: string | undefined, o: PredictFlags & { json?: boolean }) => {
    const { units } = await import("./commands/units.js");
    setCode(await units({ ...o, source }, io));
  });

  predictionOptions(
    program
      .command("context-table")
      .description("the IOMMU entries Linux programs for --assign BDF=DOMAIN, with the alias behind each; exit 1 on conflicts")
      .argument(sourceArg, sourceHelp)
      .option("--assign <bdf=domain>", "attach a function to a domain, e.g. 0000:02:01.0=vm1 ('identity' for pass-through, 'blocked'); repeatable", collect)
      .option("--mode <mode>", "VT-d table mode: legacy (default) or scalable")
      .option("--address-width <bits>", "page-table width of the domains: 39, 48 (default) or 57")
      .option("--json", "machine-readable output (schema iommu-atlas/context-table@1)"),
    false,
  ).action(async (source: string | undefined, o: PredictFlags & { json?: boolean; assign?: string[]; mode?: string; addressWidth?: string }) => {
    const { contextTable } = await import("./commands/context-table.js");
    setCode(await contextTable({ ...o, source }, io));
  });

  predictionOptions(
    program
      .command("check")
      .description("check a VM assignment plan before boot: exit 0 safe, 1 unsafe, 2 bad input")
      .argument("<plan>", "the plan file (YAML, see docs/plan.md), or - for stdin")
      .argument(sourceArg, sourceHelp)
      .option("--json", "machine-readable output (schema iommu-atlas/check@1)"),
    false,
  ).action(async (plan: string, source: string | undefined, o: PredictFlags & { json?: boolean }) => {
    const { check } = await import("./commands/check.js");
    setCode(await check({ ...o, plan, source }, io));
  });

  program
    .command("simulate")
    .description("replay a scenario's DMA transactions hop by hop: path, decisions, outcome; exit 1 when an expect: fails")
    .argument("<scenario>", "the scenario file (YAML, see docs/scenario.md), or - for stdin")
    .option("--json", "machine-readable output (schema iommu-atlas/simulate@1)")
    .action(async (scenario: string, o: { json?: boolean }) => {
      const { simulate } = await import("./commands/simulate.js");
      setCode(await simulate({ scenario, json: o.json }, io));
    });

  program
    .command("capture")
    .description("write a capture archive of this host's PCI/IOMMU state")
    .option("-o, --output <file>", "archive to write (.tar.gz), or - for stdout")
    .option("--redact", "zero device serial numbers")
    .option("--hostname", "also record the host name (for 'fleet ingest --host-from hostname')")
    .option("--root <dir>", "read sysfs/procfs below this folder instead of /")
    .action(async (o: { output?: string; redact?: boolean; hostname?: boolean; root?: string }) => {
      const { capture } = await import("./commands/capture.js");
      const summary = o.output === "-" ? (line: string) => io.err(line) : (line: string) => io.out(line);
      setCode(await capture({ ...o, log: summary, error: (line) => io.err(`iommu-atlas: ${line}`) }));
    });

  // fleet: many hosts' captures in one database (docs/fleet.md)
  const fleet = program.command("fleet").description("many hosts' captures in one database, and the questions platform teams ask (docs/fleet.md)");
  const dbOption = (cmd: Command): Command =>
    cmd.option("--db <dir|url>", "fleet database: a folder (embedded PGlite) or postgres://…; default $XDG_DATA_HOME/iommu-atlas/fleet");
  const answerOptions = (cmd: Command, schema: string): Command =>
    dbOption(cmd).option("--json", `machine-readable output (schema iommu-atlas/${schema}@1)`).option("--csv", "CSV output, one row per line");
  dbOption(
    fleet
      .command("ingest")
      .description("read, predict and store captures (files or folders of them); a bad capture is reported and skipped; exit 2 if any was")
      .argument("<captures...>", "capture archives, extracted captures, or folders holding them")
      .option("--host-from <how>", "host name from the file name ('name', default) or the recorded host name ('hostname')")
      .option("--jobs <n>", "parser threads (default: one per core)")
      .option("--json", "machine-readable summary (schema iommu-atlas/fleet-ingest@1)"),
  ).action(async (captures: string[], o: { db?: string; hostFrom?: string; jobs?: string; json?: boolean }) => {
    const { fleetIngestCommand } = await import("./commands/fleet.js");
    setCode(await fleetIngestCommand({ ...o, captures }, io));
  });
  answerOptions(fleet.command("hosts").description("hosts with board, BIOS, kernel, IOMMU, group count, largest group, ACS override"), "fleet-hosts").action(
    async (o: { db?: string; json?: boolean; csv?: boolean }) => {
      const { fleetHostsCommand } = await import("./commands/fleet.js");
      setCode(await fleetHostsCommand(o, io));
    },
  );
  answerOptions(
    fleet
      .command("alone")
      .description("which hosts can give a device to a VM alone, and why not for the others")
      .argument("<device>", "vendor:device (10de:20b0) or class (class:0300, class:03)"),
    "fleet-alone",
  ).action(async (selector: string, o: { db?: string; json?: boolean; csv?: boolean }) => {
    const { fleetAloneCommand } = await import("./commands/fleet.js");
    setCode(await fleetAloneCommand({ ...o, selector }, io));
  });
  answerOptions(
    fleet
      .command("whatif")
      .description("hosts whose groups would change with another kernel or command line, and how")
      .option("--kernel <version>", "kernel release to model, e.g. 6.12")
      .option("--cmdline <text>", "kernel command line to model"),
    "fleet-whatif",
  ).action(async (o: { db?: string; json?: boolean; csv?: boolean; kernel?: string; cmdline?: string }) => {
    const { fleetWhatIfCommand } = await import("./commands/fleet.js");
    setCode(await fleetWhatIfCommand(o, io));
  });
  answerOptions(fleet.command("risks").description("ACS override in use, NTB proxy aliases unknown, alias conflicts, RMRR devices in shared groups"), "fleet-risks").action(
    async (o: { db?: string; json?: boolean; csv?: boolean }) => {
      const { fleetRisksCommand } = await import("./commands/fleet.js");
      setCode(await fleetRisksCommand(o, io));
    },
  );
  answerOptions(fleet.command("boards").description("per board × BIOS version × kernel: how isolation differs"), "fleet-boards").action(
    async (o: { db?: string; json?: boolean; csv?: boolean }) => {
      const { fleetBoardsCommand } = await import("./commands/fleet.js");
      setCode(await fleetBoardsCommand(o, io));
    },
  );

  program
    .command("labels")
    .description("node-feature-discovery labels: IOMMU on, ACS override, whether each GPU / NIC / NVMe can go to a VM alone")
    .argument(sourceArg, sourceHelp)
    .option("-o, --output <file>", "feature file to write atomically, e.g. /etc/kubernetes/node-feature-discovery/features.d/iommu-atlas")
    .action(async (source: string | undefined, o: { output?: string }) => {
      const { labels } = await import("./commands/labels.js");
      setCode(await labels({ source, output: o.output }, io));
    });

  program
    .command("serve")
    .description("the web page on 127.0.0.1 with SOURCE preloaded (read-only); prints the URL")
    .argument(sourceArg, "a capture (.tar.gz), a sysfs folder, lspci output or a design, a file or - for stdin; default: this host")
    .option("--port <n>", "port to listen on (0: any free port)", "8765")
    .option("--host <addr>", "address to listen on (loopback only unless --allow-remote)", "127.0.0.1")
    .option("--allow-remote", "allow a non-loopback --host (prints a warning)")
    .action(async (source: string | undefined, o: { port?: string; host?: string; allowRemote?: boolean }) => {
      const { serve } = await import("./commands/serve.js");
      setCode(await serve({ ...o, source }, io));
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
