'use strict';
// BullMQ's side of "memory per pending task": on its own fresh redis-server, used_memory before
// and after N pending `add` jobs (no worker), added with addBulk in chunks, divided by N. Prints
// one JSON line in the shape of TypedTasks' harness (scenario M1-memory).
//   node memory.js [--n 100000] [--chunk 1000]
const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { Queue } = require('bullmq');
const IORedis = require('ioredis');

function parseArgs(argv) {
  const a = { n: 100000, chunk: 1000 };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, ''), v = parseInt(argv[i + 1], 10);
    if (!(k in a) || !(v > 0)) throw new Error(`bad option ${argv[i]} ${argv[i + 1]}; usage: node memory.js [--n N] [--chunk C] (positive integers)`);
    a[k] = v;
  }
  return a;
}

// A free loopback port: bind port 0 and let the kernel choose.
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  });
}

async function usedMemory(redis) {
  const m = /^used_memory:(\d+)/m.exec(await redis.info('memory'));
  return parseInt(m[1], 10);
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bullmq-memory-'));
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const connection = { host: '127.0.0.1', port, maxRetriesPerRequest: null };
  let queue, redis;
  try {
    redis = new IORedis(connection);
    // Refused connections while the server starts are expected: ioredis retries until it listens.
    redis.on('error', (e) => { if (e.code !== 'ECONNREFUSED') console.error('redis error:', e.message); });
    await redis.ping();
    queue = new Queue('bench', { connection });
    await queue.waitUntilReady();
    const before = await usedMemory(redis);
    const t0 = process.hrtime.bigint();
    for (let s = 0; s < a.n; s += a.chunk) {
      const jobs = [];
      for (let i = s; i < Math.min(a.n, s + a.chunk); i++) jobs.push({ name: 'add', data: { x: i, y: i } });
      await queue.addBulk(jobs);
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const after = await usedMemory(redis);
    const waiting = await queue.getWaitingCount();
    if (waiting !== a.n) throw new Error(`expected ${a.n} waiting jobs, found ${waiting}`);
    console.log(JSON.stringify({
      system: 'bullmq', version: require('bullmq/package.json').version, scenario: 'M1-memory', n: a.n,
      enqueue_per_s: Math.round((a.n / seconds) * 10) / 10, throughput_per_s: null, p50_ms: null, p95_ms: null, p99_ms: null,
      settings: `fresh redis-server, no worker, default queue and job options, addBulk in chunks of ${a.chunk}`,
      used_memory_before: before, used_memory_after: after,
      bytes_per_task: Math.round(((after - before) / a.n) * 10) / 10,
      deps: `ioredis ${require('ioredis/package.json').version}, node ${process.versions.node}`,
    }));
  } finally {
    if (queue) await queue.close();
    if (redis) redis.disconnect();
    server.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
