// The diagnostic log: pino to logs/rustnet_YYYY-MM-DD_HH-MM-SS.log, off unless a level is given.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { pino, type Logger } from 'pino';
import { RustnetError } from '../core/errors.js';

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

function stamp(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}_${p(d.getHours())}-${p(d.getMinutes())}-${p(d.getSeconds())}`;
}

export interface OpenedLogger {
  logger: Logger;
  /** The file written, or undefined when logging is off. */
  file: string | undefined;
}

/** Creates the session log (folder 0700, file 0600) or a silent logger when `level` is undefined. */
export function openLogger(level: LogLevel | undefined, dir = 'logs', now = new Date()): OpenedLogger {
  if (level === undefined) return { logger: pino({ level: 'silent' }), file: undefined };
  const file = path.join(dir, `rustnet_${stamp(now)}.log`);
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.closeSync(fs.openSync(file, 'a', 0o600));
  } catch (err) {
    throw new RustnetError('OUTPUT', `cannot create log file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  // A synchronous destination: nothing is lost when the process exits right after logging.
  const dest = pino.destination({ dest: file, sync: true, append: true });
  return { logger: pino({ level }, dest), file };
}
