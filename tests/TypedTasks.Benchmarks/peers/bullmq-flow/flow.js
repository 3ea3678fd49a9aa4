'use strict';
// Driver of BullMQ's S4-chord: FlowProducer.add() of a parent `sum` with N `add` children, timed
// from the add() call to the parent's result in the client's hands (its "completed" event).
//   node flow.js memory --n 1000 --settings S      no worker yet: used_memory before and after one
//                                                   flow is added; prints its line and the parent's id
//   node flow.js time --n 1000 [--repeats 1] [--rep 1] [--warmup 50] [--warmup-flows 0] --settings S [--pending ID]
//                                                   with a worker: waits for the memory step's flow
//                                                   (ID), WARMUP add round trips and WARMUP_FLOWS flows
//                                                   not counted, then REPEATS flows
// One JSON line per measured run, in the shape of ../shared/bench/README.md.
const os = require('os');
const { FlowProducer, Queue, QueueEvents } = require('bullmq');
const IORedis = require('ioredis');
const { QUEUE, CONCURRENCY, connection } = require('./common');

function parseArgs(argv) {
  const a = { mode: argv[0], n: 1000, repeats: 1, rep: 1, warmup: 50, 'warmup-flows': 0, 'ready-timeout': 60, settings: '', pending: '', timeout: 300 };
  for (let i = 1; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, ''), v = argv[i + 1];
    if (v === undefined || !(k in a) || k === 'mode') throw new Error(`bad option ${argv[i]}`);
    a[k] = ['settings', 'pending'].includes(k) ? v : Number(v);
  }
  if (!['memory', 'time'].includes(a.mode) || !(a.n > 0) || !(a.repeats > 0) || !(a.warmup >= 0) || !(a['warmup-flows'] >= 0)) {
    throw new Error('usage: node flow.js memory|time [--n N] [--repeats R] [--rep FIRST] [--warmup W] [--warmup-flows F] [--settings S] [--pending ID] [--timeout S] (N, R positive; W, F at least 0)');
  }
  return a;
}

const now = () => Number(process.hrtime.bigint()) / 1e6; // ms
const r = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const rv = (v) => (typeof v === 'string' ? JSON.parse(v) : v);
const versions = () => ({ bullmq: require('bullmq/package.json').version, deps: `ioredis ${require('ioredis/package.json').version}, node ${process.versions.node}` });

function flow(n, id) {
  const children = [];
  for (let i = 0; i < n; i++) children.push({ name: 'add', queueName: QUEUE, data: { x: i, y: i } });
  return { name: 'sum', queueName: QUEUE, data: {}, opts: { jobId: id }, children };
}

function line(scenario, n, settings, extra) {
  const v = versions();
  console.log(JSON.stringify(Object.assign({
    system: 'bullmq', version: v.bullmq, scenario, n, enqueue_per_s: null, throughput_per_s: null,
    p50_ms: null, p95_ms: null, p99_ms: null, settings,
  }, extra, { deps: v.deps })));
}

async function usedMemory(client) {
  return parseInt(/^used_memory:(\d+)/m.exec(await client.info('memory'))[1], 10);
}

async function memory(a, producer, queue) {
  const client = new IORedis(connection());
  const id = `sum-memory-${process.pid}`;
  const before = await usedMemory(client);
  const t0 = now();
  await producer.add(flow(a.n, id));
  const sent = now() - t0;
  const after = await usedMemory(client);
  const waiting = await queue.getWaitingCount();
  if (waiting !== a.n) throw new Error(`expected ${a.n} waiting children, found ${waiting}`);
  // The events stream is BullMQ's own (kept to about 10,000 entries); said apart, it is part of the total.
  const events = await client.call('MEMORY', 'USAGE', `bull:${QUEUE}:events`);
  line('M4-chord-memory', a.n, `${a.settings}, one flow in flight, no worker yet: children waiting, parent waiting-children`, {
    used_memory_before: before, used_memory_after: after, bytes: after - before,
    bytes_per_member: r((after - before) / a.n), events_stream_bytes: events, send_s: r(sent / 1000, 4), callback_id: id,
  });
  client.disconnect();
  return 0;
}

// Resolves with the parent's return value when its "completed" event arrives (listener first, then add).
function finished(qe, id, timeoutS) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { done(); reject(new Error(`no result for ${id} after ${timeoutS} s`)); }, timeoutS * 1000);
    const ok = ({ returnvalue }) => { done(); resolve(rv(returnvalue)); };
    const bad = ({ failedReason }) => { done(); reject(new Error(`${id} failed: ${failedReason}`)); };
    const done = () => { clearTimeout(timer); qe.off(`completed:${id}`, ok); qe.off(`failed:${id}`, bad); };
    qe.on(`completed:${id}`, ok);
    qe.on(`failed:${id}`, bad);
  });
}

async function time(a, producer, queue, qe) {
  const expected = a.n * (a.n - 1);
  if (a.pending) {
    const job = await queue.getJob(a.pending);
    if (!job) throw new Error(`no job ${a.pending}`);
    const v = rv(await job.waitUntilFinished(qe, a.timeout * 1000));
    if (v !== expected) throw new Error(`the memory step's flow returned ${v}, expected ${expected}`);
  }
  for (let i = 0; i < a.warmup; i++) { // sequential round trips, as every peer's client warms up
    const job = await queue.add('add', { x: i, y: 1 });
    const v = rv(await job.waitUntilFinished(qe, (i === 0 ? a['ready-timeout'] : 30) * 1000));
    if (v !== i + 1) throw new Error(`warm-up: add(${i}, 1) returned ${v}`);
  }
  const warm = `${a.warmup} add round trips${a['warmup-flows'] ? ` and ${a['warmup-flows']} flow(s)` : ''} not counted first`;
  for (let k = -a['warmup-flows']; k < a.repeats; k++) {
    const rep = a.rep + k;
    const id = `sum-${process.pid}-${k}`;
    const load = os.loadavg()[0];
    const result = finished(qe, id, a.timeout);
    const t0 = now();
    await producer.add(flow(a.n, id));
    const sent = now() - t0;
    const v = await result;
    const total = now() - t0;
    if (v !== expected) throw new Error(`flow ${id} returned ${v}, expected ${expected}`);
    if (k < 0) continue; // a flow not counted
    line('S4-chord', a.n, `${a.settings}, ${warm}, FlowProducer.add(parent sum, ${a.n} add children), the parent's completed event awaited`, {
      throughput_per_s: r(a.n / (total / 1000)), send_s: r(sent / 1000, 4), total_s: r(total / 1000, 4),
      verified: true, rep, loadavg_1m_before: r(load, 2),
    });
  }
  return 0;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const queue = new Queue(QUEUE, { connection: connection() });
  const producer = new FlowProducer({ connection: connection() });
  // Reads the stream from its start: the memory step's events are there already, and cheap to skip.
  const qe = a.mode === 'time' ? new QueueEvents(QUEUE, { connection: connection(), lastEventId: '0-0' }) : null;
  for (const c of [queue, producer, qe]) if (c) c.on('error', (e) => console.error('bullmq error:', e && e.message));
  const guard = setTimeout(() => { console.error('hard timeout'); process.exit(3); }, (a.timeout * (a.repeats + a['warmup-flows'] + 2) + 60) * 1000);
  guard.unref();
  let rc = 1;
  try {
    await Promise.all([queue.waitUntilReady(), producer.waitUntilReady(), qe && qe.waitUntilReady()]);
    rc = a.mode === 'memory' ? await memory(a, producer, queue) : await time(a, producer, queue, qe);
  } finally {
    await Promise.race([Promise.all([qe && qe.close(), producer.close(), queue.close()]), new Promise((res) => setTimeout(res, 5000))]);
  }
  process.exit(rc);
}

main().catch((e) => { console.error(e); process.exit(1); });
