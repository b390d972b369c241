/** Bad command-line usage: reported with exit code 64, never a stack trace. */
export class UsageError extends Error {}

/** Exit code for bad usage or configuration (BSD's EX_USAGE), distinct from probe outcomes. */
export const EX_USAGE = 64;
