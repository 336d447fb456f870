/** Reading /proc for the bench (scripts/bench/processes.ts): a process's CPU from its stat line. */
import { expect, it } from 'vitest';
import { parseProcessStat } from '../../scripts/bench/processes.js';

it('reads the command, the CPU of the process and of its ended children from a stat line whose command holds spaces and parentheses', () => {
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime …
  const line = '4242 (postgres: a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 1200 300 20 0 1 0 123 456 789';
  expect(parseProcessStat(line)).toEqual({ command: 'postgres: a (b) c', cpuSeconds: 3, endedChildrenCpuSeconds: 15 });
});
