// Consumer throughput from Node: records/s through `consumer.poll` and through `for await`,
// one record per step (not a test). The flags are those of sdk-python/bench/consume.py and
// sdk-rust/examples/bench_consume.rs:
//
//   node sdk-node/bench/consume.mjs                       # starts its own `weir serve`
//   node sdk-node/bench/consume.mjs --url http://127.0.0.1:8781 --token T --records 1000000 --size 100
//
// Fills a new topic with --records records of --size bytes (not timed), then reads them all
// twice, each time with a new group: once with `poll` (up to --max-poll-records per call)
// and once with `for await`, and prints records/s for each, from the first call to the
// last record. Build the addon in release mode for meaningful figures.

import { parseArgs } from 'node:util';
import { Admin, Consumer, Producer } from '../index.mjs';
import { startServer, uniqueTopic } from '../test/server.mjs';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    token: { type: 'string' },
    records: { type: 'string', default: '1000000' },
    size: { type: 'string', default: '100' },
    partitions: { type: 'string', default: '8' },
    'max-poll-records': { type: 'string', default: '500' },
  },
});

function rate(records, ms) {
  return `${Math.round(records / (ms / 1000)).toLocaleString('en')} records/s`;
}

async function fill(url, token, topic, records, size) {
  const producer = new Producer({ url, token });
  const value = Buffer.alloc(size);
  for (let i = 0; i < records; i++) producer.send({ topic, value });
  await producer.close();
}

function consumer(url, token, topic, tag) {
  return new Consumer({
    url, token, group: `${topic}-${tag}`, topics: [topic], autoOffsetReset: 'earliest',
    maxPollRecords: Number(args['max-poll-records']),
  });
}

async function run(url, token) {
  const records = Number(args.records);
  const size = Number(args.size);
  const topic = uniqueTopic('bench');
  const admin = new Admin({ url, token });
  await admin.createTopic(topic, { partitions: Number(args.partitions) });
  await admin.close();
  await fill(url, token, topic, records, size);
  console.log(`${records} records of ${size} B, ${args.partitions} partitions, maxPollRecords ${args['max-poll-records']}`);

  const polling = consumer(url, token, topic, 'poll');
  let seen = 0;
  let start = performance.now();
  while (seen < records) seen += (await polling.poll({ timeoutMs: 5000 })).length;
  console.log(`poll: ${rate(seen, performance.now() - start)}`);
  await polling.close();

  const iterating = consumer(url, token, topic, 'iterate');
  seen = 0;
  let bytes = 0;
  start = performance.now();
  for await (const record of iterating) {
    bytes += record.value.length;
    seen += 1;
    if (seen === records) break;
  }
  console.log(`for await: ${rate(seen, performance.now() - start)} (${bytes} value bytes)`);
  await iterating.close();
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
