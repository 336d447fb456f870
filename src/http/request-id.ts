/**
 * Request ids: the caller's X-Request-Id when it sends a sane one, else a new UUID; echoed in the
 * response and logged as `reqId` with whatever is logged about the request (each request is logged
 * once at debug), as the Alipay+ pipeline does.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';

declare module 'express-serve-static-core' {
  interface Request {
    id: string;
  }
}

const SANE_ID = /^[\w.:-]{1,128}$/;

/** The caller's X-Request-Id when it is sane, else a new one. */
export function requestIdOf(headers: IncomingHttpHeaders): string {
  const given = headers['x-request-id'];
  return typeof given === 'string' && SANE_ID.test(given) ? given : randomUUID();
}

export function requestIds(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const id = requestIdOf(req.headers);
    req.id = id;
    res.setHeader('X-Request-Id', id);
    if (logger.isLevelEnabled('debug')) {
      const started = Date.now();
      res.on('finish', () => logger.debug({ reqId: id, method: req.method, url: req.originalUrl, status: res.statusCode, ms: Date.now() - started }, 'request'));
    }
    next();
  };
}
