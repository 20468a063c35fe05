// Edges of the grouped send and the chunked iteration, against a real `weir serve`: records
// are refused at once for a NaN partition or timestamp, a partition far past the topic's fails
// its own promise (and nothing else), sends racing close() are refused, iterations waiting at
// once share polls without losing or repeating a record, and an assignment callback that
// throws loses none of the chunk it came with.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Admin, Consumer, Producer } from '../index.mjs';
import { clientOptions, startServer, uniqueTopic } from './server.mjs';

let server;
let admin;

before(async () => {
  server = await startServer();
  admin = new Admin(clientOptions(server));
});

after(async () => {
  await server?.stop();
});

async function produce(topic, count) {
  const producer = new Producer(clientOptions(server));
  await Promise.all(Array.from({ length: count }, (_, i) => producer.send({ topic, key: `k${i}`, value: `v${i}` })));
  await producer.close();
}

test('NaN partitions and timestamps are refused, a missing partition fails only its record', async () => {
  const topic = uniqueTopic('edges');
  await admin.createTopic(topic, { partitions: 2 });
  const producer = new Producer(clientOptions(server));
  await assert.rejects(producer.send({ topic, value: 'x', partition: Number.NaN }), { kind: 'invalid_argument' });
  await assert.rejects(producer.send({ topic, value: 'x', timestamp: Number.NaN }), { kind: 'invalid_argument' });
  const sends = [
    producer.send({ topic, value: 'a', partition: 1 }),
    producer.send({ topic, value: 'far', partition: 4e9 }),
    producer.send({ topic, value: 'b', partition: 1 }),
  ];
  const [a, far, b] = await Promise.allSettled(sends);
  assert.equal(far.status, 'rejected');
  assert.equal(far.reason.code, 'PARTITION_NOT_FOUND');
  assert.deepEqual([a.value.offset, b.value.offset], [0, 1]);
  await producer.close();
});

test('sends racing close() are refused and close() still resolves', async () => {
  const topic = uniqueTopic('close-race');
  await admin.createTopic(topic, { partitions: 1 });
  const producer = new Producer(clientOptions(server));
  const before = producer.send({ topic, value: 'before' });
  const closing = producer.close();
  const late = assert.rejects(producer.send({ topic, value: 'late' }), { kind: 'closed' });
  assert.equal((await before).offset, 0);
  await late;
  await closing;
  // A producer closed before it ever connected stays closed, too.
  const unused = new Producer(clientOptions(server));
  const connecting = unused.connect().catch((e) => e);
  await unused.close();
  await connecting;
  await assert.rejects(unused.send({ topic, value: 'never' }), { kind: 'closed' });
  assert.deepEqual(await admin.listOffsets(topic, { spec: 'latest' }), [{ partition: 0, offset: 1 }]);
});

test('iterations waiting at once share polls: every record handed out exactly once', async () => {
  const topic = uniqueTopic('parallel-next');
  const total = 600;
  await admin.createTopic(topic, { partitions: 3 });
  await produce(topic, total);
  const consumer = new Consumer({
    ...clientOptions(server), group: `g-${topic}`, topics: [topic], autoOffsetReset: 'earliest', maxPollRecords: 50,
  });
  const first = consumer.records();
  const second = consumer.records();
  const seen = [];
  // A lost record would leave the iterations waiting: closing ends them.
  const stop = setTimeout(() => consumer.close(), 30_000);
  let done = false;
  while (seen.length < total && !done) {
    const steps = await Promise.all([first.next(), first.next(), second.next(), second.next()]);
    for (const step of steps) {
      if (step.done) done = true;
      else seen.push(`${step.value.partition}/${step.value.offset}`);
    }
  }
  clearTimeout(stop);
  assert.equal(seen.length, total, 'every record handed out');
  assert.equal(new Set(seen).size, total, 'no record handed out twice');
  await consumer.commit();
  const committed = await admin.committedOffsets(`g-${topic}`, [topic]);
  const ends = await admin.listOffsets(topic, { spec: 'latest' });
  assert.deepEqual(committed.map((c) => c.offset).sort(), ends.map((e) => e.offset).sort());
  await consumer.close();
});

test('an assignment callback that throws loses none of the chunk', async () => {
  const topic = uniqueTopic('callback-throws');
  await admin.createTopic(topic, { partitions: 1 });
  await produce(topic, 20);
  let calls = 0;
  const consumer = new Consumer({
    ...clientOptions(server), group: `g-${topic}`, topics: [topic], autoOffsetReset: 'earliest',
    onAssign: () => {
      calls += 1;
      if (calls === 1) throw new Error('callback failed');
    },
  });
  const iterator = consumer.records();
  let failed = null;
  const offsets = [];
  const stop = setTimeout(() => consumer.close(), 30_000); // a lost record would leave it waiting
  for (let done = false; offsets.length < 20 && !done;) {
    try {
      const step = await iterator.next();
      done = step.done;
      if (!done) offsets.push(step.value.offset);
    } catch (e) {
      failed = e;
    }
  }
  clearTimeout(stop);
  assert.equal(failed?.message, 'callback failed');
  assert.deepEqual(offsets, Array.from({ length: 20 }, (_, i) => i));
  await consumer.close();
});
