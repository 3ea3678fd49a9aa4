#!/usr/bin/env node
'use strict';
// The table of one S4 results file (s4-run.sh): per system and setting, the chord's end-to-end
// time and members per second as median (min–max) of the measured runs, the memory of one
// workflow in flight, and TypedTasks' median beside the faster peer's.
//   node s4-table.js RESULTS.jsonl
const fs = require('fs');

const file = process.argv[2];
if (!file || !fs.existsSync(file)) {
  console.error(`usage: node s4-table.js RESULTS.jsonl (the file s4-run.sh names); got ${file || 'nothing'}`);
  process.exit(2);
}
const rows = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).filter((r) => !r.summary);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const fmt = (x, d) => Number(x).toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const spread = (xs, d) => `${fmt(median(xs), d)} (${fmt(Math.min(...xs), d)}–${fmt(Math.max(...xs), d)})`;
// A setting's label: its first two parts ("1 worker process, pool prefork -c 2").
const label = (r) => r.settings.split(', ').slice(0, 2).join(', ');

const groups = new Map();
for (const r of rows.filter((x) => x.scenario === 'S4-chord')) {
  const key = `${r.system}|${label(r)}`;
  if (!groups.has(key)) groups.set(key, []);
  groups.get(key).push(r);
}
const memory = new Map(rows.filter((x) => x.scenario === 'M4-chord-memory').map((r) => [`${r.system}|${label(r)}`, r]));
const loads = rows.filter((x) => x.scenario === 'load');

console.log('| System | Setting | Runs | End to end s, median (min–max) | Members/s, median (min–max) | Send s, median | Memory of one in flight: bytes (per member) |');
console.log('|---|---|---|---|---|---|---|');
const medians = [];
for (const [key, rs] of groups) {
  const [system, setting] = key.split('|');
  const m = memory.get(key);
  const total = rs.map((r) => r.total_s);
  medians.push({ system, setting, total: median(total) });
  const bad = rs.filter((r) => r.verified === false).length;
  console.log(`| ${system} ${rs[0].version} | ${setting} | ${rs.length}${bad ? ` (${bad} wrong)` : ''} | ${spread(total, 3)} | ${spread(rs.map((r) => r.throughput_per_s), 0)} | ${fmt(median(rs.map((r) => r.send_s)), 3)} | ${m ? `${fmt(m.bytes, 0)} (${fmt(m.bytes_per_member, 1)})` : '–'} |`);
}
const tt = medians.find((x) => x.system === 'typedtasks');
const peers = medians.filter((x) => x.system !== 'typedtasks').sort((a, b) => a.total - b.total);
if (tt && peers.length) {
  const p = peers[0];
  console.log(`\nFaster peer: ${p.system} (${p.setting}), median ${fmt(p.total, 3)} s; TypedTasks ${fmt(tt.total, 3)} s: ${fmt(p.total / tt.total, 2)}x (target >= 5x).`);
  for (const q of peers.slice(1)) console.log(`Beside ${q.system} (${q.setting}): ${fmt(q.total / tt.total, 2)}x.`);
}
if (loads.length) console.log(`\nLoad average (1, 5, 15 min) before each system: ${loads.map((l) => `${l.system} ${l.loadavg.join(' ')}`).join('; ')}.`);
