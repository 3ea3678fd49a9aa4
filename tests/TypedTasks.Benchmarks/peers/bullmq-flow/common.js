'use strict';
// Settings shared by the worker and the driver (from the environment).
const PORT = parseInt(process.env.BENCH_REDIS_PORT || '6392', 10);
const QUEUE = process.env.BULLMQ_QUEUE || 'bench';
const CONCURRENCY = parseInt(process.env.BULLMQ_CONCURRENCY || '50', 10);

// maxRetriesPerRequest: null is what BullMQ requires of blocking connections.
const connection = () => ({ host: '127.0.0.1', port: PORT, maxRetriesPerRequest: null });

module.exports = { PORT, QUEUE, CONCURRENCY, connection };
