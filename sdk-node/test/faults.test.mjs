// The per-record paths under faults, against a real `weir serve`: an idempotent producer whose
// answers are lost and whose connections are cut retries and stores every record exactly once
// (and, as a control, a producer without idempotence stores some twice through the same
// fault); a rebalance while `for await` holds a polled chunk loses no record.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Admin, Consumer, Producer } from '../index.mjs';
import { startProxy } from './proxy.mjs';
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

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Every record stored in `topic` (up to its end offsets now), read from the start. */
async function readAll(topic, partitions) {
  const ends = await admin.listOffsets(topic, { spec: 'latest' });
  const stored = ends.reduce((sum, e) => sum + e.offset, 0);
  const consumer = new Consumer(clientOptions(server));
  await consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })));
  for (let partition = 0; partition < partitions; partition++) await consumer.seek({ topic, partition }, 0);
  const values = [];
  const deadline = Date.now() + 60_000;
  while (values.length < stored && Date.now() < deadline) {
    for (const r of await consumer.poll({ timeoutMs: 500 })) values.push(r.text());
  }
  await consumer.close();
  assert.equal(values.length, stored, 'every stored record was read back');
  return values;
}

/** Sends `count` records through a proxy that loses the answers to the middle third and
 * then cuts every connection; resolves with every value stored. */
async function sendThroughLostAnswers(idempotence) {
  const topic = uniqueTopic(idempotence ? 'idem' : 'plain');
  await admin.createTopic(topic, { partitions: 2 });
  const proxy = await startProxy(server.grpc);
  const producer = new Producer({
    ...clientOptions(server), url: proxy.url, idempotence, acks: 'all', lingerMs: 2,
    retryBackoffMs: 20, requestTimeoutMs: 3_000,
  });
  try {
    const count = 6_000;
    const sends = [];
    const sendSome = async (from, to) => {
      for (let i = from; i < to; i++) sends.push(producer.send({ topic, key: `k${i % 8}`, value: `v${i}` }));
      await sleep(50);
    };
    await sendSome(0, 2_000);
    await Promise.all(sends);
    proxy.muteAnswers();
    await sendSome(2_000, 4_000);
    await sleep(300); // the server stores these; their answers are lost
    proxy.cut();
    await sendSome(4_000, count);
    const metas = await Promise.all(sends);
    assert.equal(metas.length, count, 'every send resolved');
    await producer.close();
    return { values: await readAll(topic, 2), count };
  } finally {
    await proxy.close();
  }
}

test('an idempotent producer stores each record once through lost answers and cut connections', async () => {
  const { values, count } = await sendThroughLostAnswers(true);
  const distinct = new Set(values);
  assert.equal(distinct.size, count, 'no record lost');
  assert.equal(values.length, count, `no record stored twice (${values.length - count} duplicates)`);
});

test('control: without idempotence the same fault stores some records twice', async () => {
  const { values, count } = await sendThroughLostAnswers(false);
  assert.equal(new Set(values).size, count, 'no record lost');
  assert.ok(values.length > count, 'the fault made the producer resend batches the server had stored');
});

test('a rebalance while for await holds a chunk loses no record', async () => {
  const topic = uniqueTopic('rebalance-iterate');
  const partitions = 4;
  const total = 1_000;
  await admin.createTopic(topic, { partitions });
  const producer = new Producer(clientOptions(server));
  await Promise.all(Array.from({ length: total }, (_, i) => producer.send({ topic, key: `k${i}`, value: `v${i}` })));
  await producer.close();

  const group = `g-${topic}`;
  const options = {
    ...clientOptions(server), group, topics: [topic], autoOffsetReset: 'earliest',
    heartbeatIntervalMs: 100, sessionTimeoutMs: 6_000, maxPollRecords: total,
  };
  const seen = new Set(); // "partition/offset" handed out by some member
  const iterate = async (consumer, perRecordMs) => {
    for await (const r of consumer) {
      seen.add(`${r.partition}/${r.offset}`);
      if (perRecordMs) await sleep(perRecordMs);
    }
  };
  // The first member's chunk holds every partition's records (prefetched before it polls),
  // and it hands them out slowly.
  const first = new Consumer(options);
  await first.connect();
  await sleep(1_000);
  const firstDone = iterate(first, 5);
  const deadline = Date.now() + 60_000;
  while (seen.size < 10 && Date.now() < deadline) await sleep(5);
  // A second member joins: the group takes partitions from the first, whose chunk still
  // holds records of them it has not handed out; the first then stops at once.
  const second = new Consumer(options);
  await second.connect();
  while ((await second.assignment()).length === 0 && Date.now() < deadline) await sleep(20);
  assert.ok((await second.assignment()).length > 0, 'the second member got partitions');
  await first.close();
  await firstDone;
  assert.ok(seen.size < total, `the first member still held records when it stopped (${seen.size} handed out)`);
  await second.close();

  // Nothing below a committed offset was skipped: every such record was handed out.
  const committed = await admin.committedOffsets(group, [topic]);
  for (const { partition, offset } of committed) {
    for (let o = 0; o < offset; o++) {
      assert.ok(seen.has(`${partition}/${o}`), `partition ${partition} offset ${o} is committed but was never handed out`);
    }
  }
  // A new member goes on from the commits; with the records handed out, that is everything.
  const third = new Consumer(options);
  const thirdDone = iterate(third, 0);
  while (seen.size < total && Date.now() < deadline) await sleep(20);
  await third.close();
  await thirdDone;
  assert.equal(seen.size, total, 'every record was handed out by some member');
});
