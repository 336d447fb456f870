/**
 * One measurement with autocannon, run in this process (the servers are children): fixed connections,
 * fixed duration (or a steady overall rate for the soak), every answer checked in `onResponse`.
 */
import type { ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';

/** What one entry of autocannon's request sequence sends, and how its answers are judged. */
export interface RequestSource {
  /** The one path this source calls (answers are signed over it). */
  path: string;
  /** Called for every request, so it can cycle a pre-signed pool; `context` is per connection. */
  next(context: Record<string, unknown>): { headers: Record<string, string>; body: Buffer };
  /** Returns the problem with an answer, or null when it is what the case expects. */
  check(status: number, body: string, headers: Record<string, string | string[]>, context: Record<string, unknown>): string | null;
}

export interface LoadOptions {
  url: string;
  connections: number;
  durationSeconds: number;
  /** Autocannon's overallRate: requests per second over all connections (soak); unlimited when absent. */
  overallRate?: number;
  /** A sequence per connection (the soak's order → decode → pay → notify); a single source otherwise. */
  sources: RequestSource[];
  /**
   * The server under test: if it exits during the run, the run stops at once and fails (autocannon
   * would otherwise spin reconnecting to a closed port until the duration is over).
   */
  server?: { process: ChildProcess; output(): string };
}

export class ServerExited extends Error {}

export interface LoadResult {
  requests: number;
  durationSeconds: number;
  rps: number;
  latencyMs: { p50: number; p99: number; max: number; mean: number };
  /** Connection errors and timeouts (autocannon) plus answers that failed their check. */
  errors: number;
  connectionErrors: number;
  timeouts: number;
  badAnswers: number;
  /** The first distinct problems seen, for the report. */
  problems: string[];
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  let badAnswers = 0;
  const problems = new Map<string, number>();
  const requests = options.sources.map((source) => ({
    method: 'POST' as const,
    setupRequest: (request: autocannon.Request, context: object): autocannon.Request => {
      const next = source.next(context as Record<string, unknown>);
      // A fresh headers object: autocannon adds Content-Length to it.
      return { ...request, method: 'POST' as const, path: source.path, headers: { ...next.headers }, body: next.body };
    },
    onResponse: (status: number, body: string, context: object, headers: autocannon.Request['headers']) => {
      const problem = source.check(status, body, (headers ?? {}) as Record<string, string | string[]>, context as Record<string, unknown>);
      if (problem) {
        badAnswers++;
        if (problems.size < 5 || problems.has(problem)) problems.set(problem, (problems.get(problem) ?? 0) + 1);
      }
    },
  }));
  const server = options.server?.process;
  let exited: string | undefined;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.durationSeconds,
        ...(options.overallRate ? { overallRate: options.overallRate } : {}),
        timeout: 10,
        requests,
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      exited = `the server (pid ${server?.pid}) exited during the run: ${signal ?? `code ${code}`}`;
      // The gateway exits 0 only after a SIGTERM/SIGINT, which the bench sends only once a run is over.
      if (code === 0 || signal === 'SIGTERM' || signal === 'SIGINT') exited += ' — stopped by a signal from outside the bench (another process on this machine?)';
      instance.stop();
    };
    if (server) {
      if (server.exitCode !== null || server.signalCode !== null) onExit(server.exitCode, server.signalCode);
      else server.once('exit', onExit);
      instance.on('done', () => server.off('exit', onExit));
    }
  });
  if (exited) throw new ServerExited(`${exited}\n--- its last output ---\n${options.server?.output() ?? ''}`);
  const connectionErrors = result.errors; // includes timeouts
  return {
    requests: result.requests.total,
    durationSeconds: result.duration,
    rps: result.duration > 0 ? result.requests.total / result.duration : 0,
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max, mean: result.latency.mean },
    errors: connectionErrors + badAnswers,
    connectionErrors,
    timeouts: result.timeouts,
    badAnswers,
    problems: [...problems].map(([p, n]) => `${n}× ${p}`),
  };
}
