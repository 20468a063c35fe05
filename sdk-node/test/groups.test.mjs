// Consumer groups through the Rust SDK against a real `weir serve`: two members share the
// partitions (with the onAssign/onRevoke callbacks), commits persist across a restart, the
// iterator hands out one record at a time, and seek, pause/resume and assign work.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Admin, Consumer, Producer } from '../index.mjs';
import { clientOptions, pollUntil, startServer, uniqueTopic } from './server.mjs';

let server;
let admin;

before(async () => {
  server = await startServer();
  admin = new Admin(clientOptions(server));
});

after(async () => {
  await server?.stop();
});

async function produce(topic, values, key) {
  const producer = new Producer(clientOptions(server));
  const metas = await Promise.all(values.map((value, i) => producer.send({ topic, key: key ?? `k${i}`, value })));
  await producer.close();
  return metas;
}

const FAST = { heartbeatIntervalMs: 100, sessionTimeoutMs: 6000, autoOffsetReset: 'earliest' };
const names = (tps) => tps.map((p) => `${p.topic}/${p.partition}`).sort();

test('two consumers in one group share the partitions', async () => {
  const topic = uniqueTopic('share');
  await admin.createTopic(topic, { partitions: 4 });
  await produce(topic, Array.from({ length: 40 }, (_, i) => `v${i}`));
  const events = { a: [], b: [] };
  const member = (name) =>
    new Consumer({
      ...clientOptions(server),
      ...FAST,
      group: `g-${topic}`,
      topics: [topic],
      onAssign: (parts) => events[name].push(['assign', names(parts)]),
      onRevoke: (parts) => events[name].push(['revoke', names(parts)]),
    });
  const a = member('a');
  await a.connect();
  assert.equal((await a.assignment()).length, 4, 'the only member gets every partition');
  assert.deepEqual(events.a, [['assign', names((await a.assignment()))]]);
  const b = member('b');
  await b.connect();

  const seen = { a: [], b: [] };
  const deadline = Date.now() + 30_000;
  let split = false;
  while (Date.now() < deadline) {
    const [ra, rb] = await Promise.all([a.poll({ timeoutMs: 200 }), b.poll({ timeoutMs: 200 })]);
    seen.a.push(...ra);
    seen.b.push(...rb);
    const [pa, pb] = [names(await a.assignment()), names(await b.assignment())];
    split = pa.length > 0 && pb.length > 0 && pa.length + pb.length === 4 && !pa.some((p) => pb.includes(p));
    // onRevoke runs after a poll: the one after the assignment shrank tells it.
    const told = events.a.some(([kind]) => kind === 'revoke');
    if (split && told && seen.a.length + seen.b.length >= 40) break;
  }
  assert.ok(split, 'both members own partitions, none twice');
  const values = new Set([...seen.a, ...seen.b].map((r) => r.text()));
  assert.equal(values.size, 40, 'every record was read');
  assert.ok(events.a.some(([kind]) => kind === 'revoke'), `a gave partitions up: ${JSON.stringify(events.a)}`);
  assert.equal(events.b[0][0], 'assign');

  const group = await admin.describeGroup(`g-${topic}`);
  assert.equal(group.members.length, 2);
  await a.close();
  await b.close();
  assert.equal(events.b.at(-1)[0], 'revoke', 'close tells onRevoke');
});

test('commits persist across a consumer restart', async () => {
  const topic = uniqueTopic('restart');
  const group = `g-${topic}`;
  await admin.createTopic(topic, { partitions: 2 });
  await produce(topic, Array.from({ length: 10 }, (_, i) => `first-${i}`));
  const options = { ...clientOptions(server), ...FAST, group, topics: [topic], autoCommit: false };

  const first = new Consumer(options);
  const got = await pollUntil(first, 10);
  assert.equal(got.length, 10);
  await first.commit();
  const ends = await admin.listOffsets(topic, { spec: 'latest' });
  for (const { partition, offset } of ends) {
    assert.equal(await first.committed({ topic, partition }), offset);
  }
  await first.close();

  await produce(topic, Array.from({ length: 5 }, (_, i) => `second-${i}`));
  const second = new Consumer(options);
  const rest = await pollUntil(second, 5);
  // Nothing more arrives: the first ten stay committed.
  rest.push(...(await second.poll({ timeoutMs: 500 })));
  await second.close();
  assert.deepEqual(rest.map((r) => r.text()).sort(), Array.from({ length: 5 }, (_, i) => `second-${i}`));
  const committed = await admin.committedOffsets(group, [topic]);
  assert.deepEqual(committed.map((c) => c.offset).sort(), ends.map((e) => e.offset).sort(), 'manual mode: close does not commit');
});

test('for await hands out one record at a time; break keeps the consumer open', async () => {
  const topic = uniqueTopic('iterate');
  const group = `g-${topic}`;
  await admin.createTopic(topic, { partitions: 1 });
  await produce(topic, ['r0', 'r1', 'r2', 'r3', 'r4'], 'same');
  const consumer = new Consumer({ ...clientOptions(server), ...FAST, group, topics: [topic], autoCommit: false });
  const taken = [];
  for await (const record of consumer) {
    taken.push(record.text());
    if (taken.length === 2) {
      await consumer.commit();
      break;
    }
  }
  assert.deepEqual(taken, ['r0', 'r1']);
  assert.equal(await consumer.committed({ topic, partition: 0 }), 2, 'only records handed out are committed');
  const rest = await pollUntil(consumer, 3);
  assert.deepEqual(rest.map((r) => r.text()), ['r2', 'r3', 'r4']);
  // An iteration waiting for records ends when the consumer is closed.
  const iterator = consumer.records();
  const waiting = iterator.next();
  await new Promise((r) => setTimeout(r, 100));
  await consumer.close();
  assert.deepEqual(await waiting, { done: true, value: undefined });
});

test('auto commit commits handed-out positions on close', async () => {
  const topic = uniqueTopic('auto');
  const group = `g-${topic}`;
  await admin.createTopic(topic, { partitions: 1 });
  await produce(topic, ['a', 'b', 'c'], 'same');
  const consumer = new Consumer({ ...clientOptions(server), ...FAST, group, topics: [topic], autoCommitIntervalMs: 60_000 });
  assert.equal((await pollUntil(consumer, 3)).length, 3);
  assert.equal(await consumer.committed({ topic, partition: 0 }), null, 'not before the interval');
  await consumer.close();
  const [offset] = await admin.committedOffsets(group, [topic]);
  assert.equal(offset.offset, 3);
});

test('assign, seek, seekToTimestamp, position, pause and resume', async () => {
  const topic = uniqueTopic('seek');
  await admin.createTopic(topic, { partitions: 1 });
  const metas = await produce(topic, Array.from({ length: 6 }, (_, i) => `s${i}`), 'same');
  const tp = { topic, partition: 0 };
  const consumer = new Consumer({ ...clientOptions(server), autoOffsetReset: 'earliest' });
  await consumer.assign([tp]);
  assert.deepEqual(await consumer.assignment(), [tp]);
  await consumer.seek(tp, 3);
  const fromThree = await pollUntil(consumer, 3);
  assert.deepEqual(fromThree.map((r) => r.offset), [3, 4, 5]);
  assert.equal(await consumer.position(tp), 6);

  await consumer.seekToTimestamp(tp, metas[0].timestamp);
  await consumer.pause([tp]);
  assert.deepEqual(await consumer.poll({ timeoutMs: 700 }), [], 'a paused partition hands out nothing');
  await consumer.resume([tp]);
  const again = await pollUntil(consumer, 6);
  assert.deepEqual(again.map((r) => r.text()), Array.from({ length: 6 }, (_, i) => `s${i}`));
  await assert.rejects(consumer.seek({ topic, partition: 7 }, 0), { kind: 'invalid_argument' });
  await consumer.close();
});
