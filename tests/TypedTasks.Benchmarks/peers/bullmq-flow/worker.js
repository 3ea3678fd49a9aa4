'use strict';
// BullMQ worker of S4-chord: `add` children return x + y; the parent `sum` adds its children's
// values (getChildrenValues: one HGETALL of the parent's processed set). One process, one queue,
// concurrency BULLMQ_CONCURRENCY (50, as the peers' S1/S2 harness), BullMQ's default options.
//   BENCH_REDIS_PORT=6392 node worker.js
const { Worker } = require('bullmq');
const { QUEUE, CONCURRENCY, connection } = require('./common');

async function processJob(job) {
  if (job.name === 'add') return job.data.x + job.data.y;
  if (job.name === 'sum') return Object.values(await job.getChildrenValues()).reduce((s, v) => s + v, 0);
  throw new Error(`unknown job name ${job.name}`);
}

async function main() {
  const worker = new Worker(QUEUE, processJob, { connection: connection(), concurrency: CONCURRENCY });
  worker.on('error', (e) => console.error('worker error:', e && e.message));
  let closing = false;
  const stop = async (sig) => {
    if (closing) return;
    closing = true;
    const force = setTimeout(() => process.exit(1), 10000);
    force.unref();
    try { await worker.close(); } catch (e) { console.error('close failed', e); }
    console.log(`worker stopped (${sig})`);
    process.exit(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  await worker.waitUntilReady();
  console.log(`ready concurrency=${CONCURRENCY} pid=${process.pid}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
