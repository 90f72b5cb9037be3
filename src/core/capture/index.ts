export { CaptureError } from "./capture-error.js";
export { CAPTURE_LIMITS } from "./limits.js";
export type { CaptureLimits } from "./limits.js";
export { CaptureReader, looksLikeCapture, readCapture } from "./read-capture.js";
