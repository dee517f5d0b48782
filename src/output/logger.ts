// The diagnostic log: pino to logs/rustnet_YYYY-MM-DD_HH-MM-SS.log, off unless a level is given.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger, pino as pinoFn } from 'pino';
import { RustnetError } from '../core/errors.js';

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

function stamp(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}_${p(d.getHours())}-${p(d.getMinutes())}-${p(d.getSeconds())}`;
}

/** The part of pino's logger the monitor uses; a silent stand-in serves when logging is off. */
export interface DiagnosticLog {
  error(msg: string): void;
  info(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
  isLevelEnabled(level: string): boolean;
  flush(): void;
}

const SILENT: DiagnosticLog = {
  error: () => {},
  info: () => {},
  debug: () => {},
  isLevelEnabled: () => false,
  flush: () => {},
};

export interface OpenedLogger {
  logger: DiagnosticLog;
  /** The file written, or undefined when logging is off. */
  file: string | undefined;
}

/**
 * Creates the session log (folder 0700, file 0600), or a silent stand-in when `level` is undefined.
 * pino is loaded only when logging is on: it is a noticeable part of start-up time.
 */
export async function openLogger(level: LogLevel | undefined, dir = 'logs', now = new Date()): Promise<OpenedLogger> {
  if (level === undefined) return { logger: SILENT, file: undefined };
  const file = path.join(dir, `rustnet_${stamp(now)}.log`);
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.closeSync(fs.openSync(file, 'a', 0o600));
  } catch (err) {
    throw new RustnetError('OUTPUT', `cannot create log file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  // A synchronous destination: nothing is lost when the process exits right after logging.
  const { pino } = (await import('pino')) as { pino: typeof pinoFn };
  const dest = pino.destination({ dest: file, sync: true, append: true });
  const logger = pino({ level }, dest);
  return { logger: { ...bind(logger), flush: () => logger.flush() }, file };
}

function bind(logger: Logger<never>): Omit<DiagnosticLog, 'flush'> {
  return {
    error: (msg) => logger.error(msg),
    info: (obj, msg) => logger.info(obj, msg),
    debug: (obj, msg) => logger.debug(obj, msg),
    isLevelEnabled: (level) => logger.isLevelEnabled(level),
  };
}
