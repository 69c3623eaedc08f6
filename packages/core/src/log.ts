import { redact } from './redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

const order: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Plain-line logger on stderr (stdout is kept for results and --json output). */
export function createLogger(opts: { level?: LogLevel; prefix?: string; write?: (line: string) => void } = {}): Logger {
  const min = order[opts.level ?? ((process.env.RELEASE_LOG_LEVEL as LogLevel | undefined) ?? 'info')];
  const write = opts.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const at = (level: LogLevel) => (msg: string) => {
    if (order[level] < min) return;
    const prefix = opts.prefix ? `[${opts.prefix}] ` : '';
    write(redact(`${prefix}${level === 'info' ? '' : `${level}: `}${msg}`));
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
