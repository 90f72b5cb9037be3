/**
 * The way back from a topology to the inputs it was built from, so a plan
 * can change one register (SR-IOV NumVFs) and rebuild the machine the way
 * a source would have produced it.
 */
import { decodeConfig } from "../config/decode.js";
import { PCI_SRIOV_CTRL, PCI_SRIOV_CTRL_VFE, PCI_SRIOV_NUM_VF } from "../regs/sriov.js";
import type { FunctionInput } from "../topology/build.js";
import type { PciFunction, Topology } from "../topology/model.js";

/** what a source would have given for one function */
export function functionInputOf(fn: PciFunction): FunctionInput {
  return {
    segment: fn.segment,
    bus: fn.bus,
    devfn: fn.devfn,
    config: fn.config,
    configIssues: fn.issues,
    ids: {
      vendor: fn.vendor,
      device: fn.device,
      subsystemVendor: fn.subsystemVendor,
      subsystemDevice: fn.subsystemDevice,
      classCode: fn.classCode,
      revision: fn.revision,
    },
    driver: fn.driver,
    kernelGroup: fn.kernelGroup,
    physfn: fn.physfn,
  };
}

/**
 * The inputs of every function the source really showed. VFs the topology
 * only predicted are left out: buildTopology predicts them again from the
 * PF's SR-IOV registers.
 */
export function functionInputsOf(topology: Topology): FunctionInput[] {
  return [...topology.functions.values()].filter((f) => !f.predicted).map(functionInputOf);
}

/**
 * The PF's inputs with NumVFs written and VF Enable set (cleared for 0), as
 * `echo N > sriov_numvfs` leaves the registers. Undefined when the config
 * space holds no SR-IOV capability within the bytes read.
 */
export function withNumVfs(input: FunctionInput, numVfs: number): FunctionInput | undefined {
  const config = input.config;
  const sriov = config?.sriov;
  if (!config || !sriov || sriov.offset + PCI_SRIOV_NUM_VF + 2 > config.known) return undefined;
  const bytes = config.bytes.slice();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ctrl = view.getUint16(sriov.offset + PCI_SRIOV_CTRL, true);
  view.setUint16(sriov.offset + PCI_SRIOV_CTRL, numVfs > 0 ? ctrl | PCI_SRIOV_CTRL_VFE : ctrl & ~PCI_SRIOV_CTRL_VFE, true);
  view.setUint16(sriov.offset + PCI_SRIOV_NUM_VF, numVfs, true);
  // a PF with an SR-IOV capability was read beyond 256 bytes, so "complete" changes nothing but the short-dump issue
  const { config: decoded, issues } = decodeConfig(bytes, { known: config.known, complete: config.known >= 256 });
  return decoded ? { ...input, config: decoded, configIssues: issues } : undefined;
}
