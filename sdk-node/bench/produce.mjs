// Producer throughput from Node: records/s through `producer.send`, one record per call (not a
// test). The flags are those of sdk-python/bench/produce.py:
//
//   node sdk-node/bench/produce.mjs                       # starts its own `weir serve`
//   node sdk-node/bench/produce.mjs --url http://127.0.0.1:8781 --token T --records 500000 --size 100
//
// Sends --records records of --size bytes (one payload reused, no keys, so the sticky
// partitioner fills batches) without awaiting each, keeps every 1000th promise to check it,
// flushes, and prints records/s for the send loop and for the whole run (first send to the end
// of the flush) after a warm-up. Build the addon in release mode for meaningful figures
// (`npm install ./sdk-node`, or `node scripts/build.js --release` in sdk-node).

import { parseArgs } from 'node:util';
import { Admin, Producer } from '../index.mjs';
import { startServer, uniqueTopic } from '../test/server.mjs';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    token: { type: 'string' },
    records: { type: 'string', default: '300000' },
    warmup: { type: 'string', default: '20000' },
    size: { type: 'string', default: '1024' },
    partitions: { type: 'string', default: '8' },
    compression: { type: 'string', default: 'none' },
    'linger-ms': { type: 'string', default: '5' },
    'batch-bytes': { type: 'string' },
  },
});

async function run(url, token) {
  const records = Number(args.records);
  const size = Number(args.size);
  const topic = uniqueTopic('bench');
  const admin = new Admin({ url, token });
  await admin.createTopic(topic, { partitions: Number(args.partitions) });
  await admin.close();
  const options = { url, token, compression: args.compression, lingerMs: Number(args['linger-ms']) };
  if (args['batch-bytes']) options.batchBytes = Number(args['batch-bytes']);
  const producer = new Producer(options);
  const value = Buffer.alloc(size);
  for (let i = 0; i < Number(args.warmup); i++) producer.send({ topic, value });
  await producer.flush();
  const checked = [];
  const start = performance.now();
  for (let i = 0; i < records; i++) {
    const sent = producer.send({ topic, value });
    if (i % 1000 === 0) checked.push(sent);
  }
  const queued = performance.now();
  await producer.flush();
  const end = performance.now();
  await Promise.all(checked);
  await producer.close();
  const total = (end - start) / 1000;
  const rate = records / total;
  console.log(`${records} records of ${size} B, ${args.partitions} partitions, compression ${args.compression}, linger ${args['linger-ms']} ms`);
  console.log(`send loop: ${Math.round(records / ((queued - start) / 1000)).toLocaleString('en')} records/s queued`);
  console.log(`end to end: ${Math.round(rate).toLocaleString('en')} records/s, ${((rate * size) / 1e6).toFixed(1)} MB/s (${total.toFixed(2)} s)`);
}

if (args.url) {
  await run(args.url, args.token);
} else {
  const server = await startServer();
  try {
    await run(server.grpc, server.token);
  } finally {
    await server.stop();
  }
}
