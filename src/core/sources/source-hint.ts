/** what every unreadable-source message ends with (a module of its own: the CLI's start needs only this) */
export const SOURCE_HINT = "pass a capture made by 'iommu-atlas capture' or scripts/capture.sh";
