/**
 * Preloaded into the bench's children (`node --import ./scripts/bench/process-title.mjs dist/main.js`;
 * plain JavaScript, as the gateway under test runs without tsx): renames the process as `ps` and `pgrep -f` see it (/proc/<pid>/cmdline), e.g.
 * `acqp-bench-gateway-sqlite`.
 *
 * Why: this machine is shared, and during 5-minute soaks the bench's gateway was stopped three times by
 * a SIGTERM that the bench did not send (exit code 0, which src/main.ts gives only after SIGTERM or
 * SIGINT) — most likely someone stopping "their" gateway by name. Under its own name the
 * gateway under test is out of reach of such patterns, and easy to tell apart in `ps`.
 */
const title = process.env.BENCH_PROCESS_TITLE;
if (title) process.title = title;
