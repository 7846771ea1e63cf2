/** Process exit codes, as promised in DESIGN.md. */
export const ExitCode = {
  /** Nothing to change, or everything applied. */
  Success: 0,
  /** An error on any host, an unreachable host, a failed check, or bad input. */
  Failure: 1,
  /** `plan --detailed-exitcode` found changes. */
  ChangesPresent: 2,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
