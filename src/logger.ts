/** pino JSON logs. Keys, tokens and signatures are redacted; payment codes are masked where logged. */
import { pino, type Logger } from 'pino';

export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.signature', '*.apiKey', '*.adminToken', '*.privateKey'],
      censor: '[redacted]',
    },
  });
}

/** `2810…7830`: enough to recognise a code in a log, not enough to reuse it. */
export function maskCode(code: string): string {
  return code.length <= 8 ? '****' : `${code.slice(0, 4)}…${code.slice(-4)}`;
}
