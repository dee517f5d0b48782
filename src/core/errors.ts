// Typed errors with a stable code; the message tells the user what to do next.

export type ErrorCode =
  | 'USAGE'
  | 'CAPTURE_OPEN'
  | 'CAPTURE_PERMISSION'
  | 'BAD_INTERFACE'
  | 'BAD_FILTER'
  | 'FILE_NOT_FOUND'
  | 'FILE_UNREADABLE'
  | 'FILE_FORMAT'
  | 'FILE_TRUNCATED'
  | 'FILE_CORRUPT'
  | 'OUTPUT'
  /** A fault of our own (exit code 70). */
  | 'INTERNAL';

export class RustnetError extends Error {
  readonly code: ErrorCode;
  /** Exit status the CLI uses for this error. */
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, exitCode = 2) {
    super(message);
    this.name = 'RustnetError';
    this.code = code;
    this.exitCode = exitCode;
  }
}
