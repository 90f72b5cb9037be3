export { CaptureError } from "./capture-error.js";
export { CAPTURE_LIMITS } from "./limits.js";
export type { CaptureLimits } from "./limits.js";
export { CaptureReaderCore, looksLikeCapture } from "./read-capture.js";
export type { Inflater, InflaterFactory } from "./read-capture.js";
export { CaptureReader, fflateInflater, readCapture } from "./fflate-inflater.js";
