/** Bad command-line usage: reported with exit code 64, never a stack trace. */
export class UsageError extends Error {}
