#!/usr/bin/env node
'use strict';
// The table of one session's results file (run-session.sh): per system and scenario, the median
// of the repetitions with min–max. Lines the harness marks as summaries are left out (they repeat
// the repetitions), and so are S3 lines of one worker (they repeat S1-bulk); lines of a failed run ("error") are listed below the table.
//   node session-table.js RESULTS.jsonl
const fs = require('fs');

const file = process.argv[2];
if (!file || !fs.existsSync(file)) {
  console.error(`usage: node session-table.js RESULTS.jsonl (the file run-session.sh printed at its end); got ${file || 'nothing'}`);
  process.exit(2);
}
const rows = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).filter((r) => !r.summary && !(r.scenario === 'S3-scaling' && r.workers === 1));

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const fmt = (x, d) => Number(x).toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
function cell(rs, key, d = 0) {
  const xs = rs.map((r) => r[key]).filter((x) => x !== null && x !== undefined);
  if (!xs.length) return '–';
  return xs.length === 1 ? fmt(xs[0], d) : `${fmt(median(xs), d)} (${fmt(Math.min(...xs), d)}–${fmt(Math.max(...xs), d)})`;
}

const groups = new Map();
for (const r of rows.filter((x) => !x.error && x.scenario !== 'I1-idle' && !/-commands$/.test(x.scenario))) {
  // Memory lines of TypedTasks differ by task name (its length decides where a record lives).
  const key = `${r.system} ${r.scenario}${r.scenario === 'M1-memory' && r.task_name ? ` (${r.task_name})` : ''}`;
  if (!groups.has(key)) groups.set(key, []);
  groups.get(key).push(r);
}
console.log('| System | Scenario | Runs | Enqueue/s | End to end/s | p50 / p95 / p99 ms | Bytes per pending task | CPU s per run: client / worker / redis | Load before |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const [key, rs] of groups) {
  const [system, ...rest] = key.split(' ');
  const scenario = rest.join(' ');
  const lat = rs[0].p50_ms === null || rs[0].p50_ms === undefined ? '–' : `${cell(rs, 'p50_ms', 2)} / ${cell(rs, 'p95_ms', 2)} / ${cell(rs, 'p99_ms', 2)}`;
  const end = /latency|M1-memory/.test(scenario) ? '–' : cell(rs, 'throughput_per_s');
  const cpu = rs[0].worker_cpu_s === undefined ? '–' : `${cell(rs, 'client_cpu_s', 2)} / ${cell(rs, 'worker_cpu_s', 2)} / ${cell(rs, 'redis_cpu_s', 2)}`;
  console.log(`| ${system} ${rs[0].version} | ${scenario} | ${rs.length} | ${cell(rs, 'enqueue_per_s')} | ${end} | ${lat} | ${cell(rs, 'bytes_per_task', 1)} | ${cpu} | ${cell(rs, 'loadavg_1m_before', 1)} |`);
}
for (const r of rows.filter((x) => /-commands$/.test(x.scenario))) {
  const unit = r.scenario.startsWith('S2') ? 'round trip' : 'task';
  console.log(`\n${r.scenario}, redis-server per ${unit} (${r.tasks} ${unit}s; script calls (FCALL, EVALSHA) ${fmt(r.evalsha_usec_per_task, 2)} us per ${unit}, the commands of its scripts included): ${r.per_task}`);
}
const idle = rows.filter((r) => r.scenario === 'I1-idle');
if (idle.length) {
  console.log('\n| Idle worker, queues served | Window s | Worker CPU, % of a core | redis-server CPU s | Commands/s: all / sent by the worker / run in its scripts | Commands |');
  console.log('|---|---|---|---|---|---|');
  for (const r of idle) {
    const split = r.sent_per_s === undefined ? '' : ` / ${fmt(r.sent_per_s, 2)} / ${fmt(r.in_scripts_per_s, 2)}`;
    console.log(`| ${r.queues} | ${fmt(r.window_s, 1)} | ${fmt(r.worker_core_percent, 2)} | ${fmt(r.redis_cpu_s, 2)} | ${fmt(r.redis_commands_per_s, 2)}${split} | ${r.redis_commands} |`);
  }
}
const failed = rows.filter((r) => r.error);
if (failed.length) {
  console.log('\nFailed runs:');
  for (const r of failed) console.log(`- ${r.system} ${r.scenario} rep ${r.rep}: ${r.error}`);
}
