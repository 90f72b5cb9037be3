/** the bundled examples of the repository, built into the page (no fetch, works from file://) */
import capture from "../../../examples/captures/pcie-pci-bridge-alias.sysfs.tar.gz?base64";
import gpu from "../../../examples/designs/gpu-behind-switch.yaml?raw";
import ntb from "../../../examples/designs/switchtec-ntb.yaml?raw";

export interface Example {
  readonly id: string;
  readonly title: string;
  readonly file: string;
  readonly text?: string;
  readonly base64?: string;
}

export const EXAMPLES: readonly Example[] = [
  { id: "capture", title: "Real capture: QEMU q35, PCIe-to-PCI bridge alias", file: "examples/captures/pcie-pci-bridge-alias.sysfs.tar.gz", base64: capture },
  { id: "gpu-behind-switch", title: "Design: GPU + 2 NVMe behind a switch without ACS", file: "examples/designs/gpu-behind-switch.yaml", text: gpu },
  { id: "switchtec-ntb", title: "Design: Switchtec NTB with proxy requester IDs", file: "examples/designs/switchtec-ntb.yaml", text: ntb },
];
