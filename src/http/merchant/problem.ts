/** RFC 9457 problem+json: the only error shape of the merchant API. */
import type { Response } from 'express';

export interface Problem {
  status: number;
  type: string;
  title: string;
  detail?: string;
  /** The Alipay+-style reason code when a business rule refused. */
  resultCode?: string;
  errors?: { path: string; message: string }[];
}

export function sendProblem(res: Response, problem: Problem): void {
  res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
}
