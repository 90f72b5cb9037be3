/**
 * What the lspci reader could not take at face value, as data. English for
 * each code lives in ./messages.ts.
 */
export type LspciWarning =
  /** the file holds more than one lspci run; `lines` are where each starts */
  | { readonly code: "several-dumps"; readonly dumps: number; readonly lines: readonly number[] }
  /** two runs disagree about a function; the first run's value is kept */
  | { readonly code: "dumps-disagree"; readonly bdf: string; readonly field: "vendor" | "device" | "class" | "bus-numbers"; readonly lines: readonly [number, number] }
  /** lines around or inside the dumps that are not lspci output */
  | { readonly code: "text-skipped"; readonly lines: number; readonly first: number }
  /** `Capabilities: <access denied>`: captured without root */
  | { readonly code: "capabilities-denied"; readonly functions: number; readonly first: string }
  /** a plain listing (no `-v`): capabilities, PCIe type and ACS are unknown */
  | { readonly code: "capabilities-not-shown"; readonly functions: number; readonly first: string }
  /** `-v` without `-vv`: ACS, ARI and SR-IOV registers are not printed */
  | { readonly code: "registers-not-shown"; readonly functions: number; readonly first: string }
  /** a dump shows PCIe functions but no extended capability at all: extended space was not read */
  | { readonly code: "extended-not-shown"; readonly dump: number; readonly functions: number }
  /** an ACS or SR-IOV block whose register lines are missing or cut, or an Express header cut before its type */
  | { readonly code: "registers-cut"; readonly bdf: string; readonly line: number; readonly capability: "acs" | "sriov" | "express" }
  /** the text stops inside the last PCIe function's block (no closing blank line): its extended capabilities may be missing */
  | { readonly code: "text-ends-in-block"; readonly bdf: string; readonly line: number }
  /** no numeric ids (`-nn` missing): vendor and device read as 0xffff */
  | { readonly code: "ids-unknown"; readonly functions: number; readonly first: string }
  /** no numeric ids: vendor and device were read back from their names through pci.ids */
  | { readonly code: "ids-from-names"; readonly functions: number; readonly version: string | undefined }
  /** a printed name that several ids share in pci.ids: the lowest was taken */
  | { readonly code: "ids-name-ambiguous"; readonly bdf: string; readonly line: number; readonly name: string; readonly candidates: readonly string[]; readonly chosen: string }
  /** a printed name pci.ids does not hold exactly: the vendor's closest device name was taken (renamed between database versions) */
  | { readonly code: "ids-name-approximate"; readonly bdf: string; readonly line: number; readonly name: string; readonly closest: string; readonly candidates: readonly string[]; readonly chosen: string; readonly version: string | undefined }
  /** printed names pci.ids does not hold (another version of the database printed them) */
  | { readonly code: "ids-name-unknown"; readonly functions: number; readonly first: string; readonly name: string; readonly version: string | undefined }
  /** a class name the reader does not know and no `[cccc]` */
  | { readonly code: "class-unknown"; readonly bdf: string; readonly line: number; readonly text: string }
  /** bridges whose bus numbers no line showed: what is behind them hangs off its own root */
  | { readonly code: "bridge-buses-unknown"; readonly bdfs: readonly string[] }
  /** a `-P` path element whose bus number nothing showed: a free number was used */
  | { readonly code: "bus-guessed"; readonly bdf: string; readonly bus: number; readonly line: number }
  /** function 0's multi-function bit was inferred from its listed siblings */
  | { readonly code: "multifunction-inferred"; readonly bdfs: readonly string[] }
  /** a hex dump skips lines: bytes from `offset` on are not used */
  | { readonly code: "hex-gap"; readonly bdf: string; readonly line: number; readonly offset: number }
  /** the tree and the device lines give a bridge different bus numbers; the device lines win */
  | { readonly code: "tree-disagrees"; readonly bdf: string; readonly line: number };

export type LspciWarningCode = LspciWarning["code"];
