// Producing and consuming through the Rust SDK against a real `weir serve`: value shapes,
// headers, every codec, Kafka-compatible key partitioning cross-checked with REST produce,
// errors as WeirError, AbortSignal cancellation without blocking the event loop.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { after, before, test } from 'node:test';

import { Admin, Consumer, Producer, WeirError, partitionForKey } from '../index.mjs';
import { SDK_DIR, clientOptions, pollUntil, rest, startServer, uniqueTopic } from './server.mjs';

let server;
let admin;

before(async () => {
  server = await startServer();
  admin = new Admin(clientOptions(server));
});

after(async () => {
  await server?.stop();
});

const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const BINARY = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x80, 10, 13]);
const COMPRESSIBLE = 'a'.repeat(20_000);

for (const compression of CODECS) {
  test(`round trip of Buffer, string and JSON values with headers (${compression})`, async () => {
    const topic = uniqueTopic(`rt-${compression}`);
    await admin.createTopic(topic, { partitions: 3 });
    const producer = new Producer({ ...clientOptions(server), compression, lingerMs: 20 });
    const sent = [
      { topic, key: 'k-buffer', value: BINARY, headers: { kind: 'buffer', raw: Buffer.from([0, 255]) } },
      { topic, key: Buffer.from('k-string'), value: 'héllo ☃', headers: [['kind', 'string'], ['dup', 'a'], ['dup', 'b']] },
      { topic, key: 'k-json', value: { item: 'book', qty: 2, tags: ['x', null] }, headers: new Map([['kind', 'json'], ['none', null]]) },
      { topic, key: 'k-big', value: COMPRESSIBLE },
      { topic, key: 'k-tombstone', value: null },
    ];
    // Sent together, so records of a partition share a batch and the codec sees several.
    const metas = await Promise.all(sent.map((r) => producer.send(r)));
    await producer.close();
    for (const [i, meta] of metas.entries()) {
      assert.equal(meta.topic, topic);
      assert.equal(meta.partition, partitionForKey(sent[i].key, 3));
      assert.ok(meta.offset >= 0);
    }

    const consumer = new Consumer({ ...clientOptions(server), group: `g-${topic}`, topics: [topic], autoOffsetReset: 'earliest' });
    const got = await pollUntil(consumer, sent.length);
    await consumer.close();
    assert.equal(got.length, sent.length);
    const byKey = new Map(got.map((r) => [r.key.toString(), r]));

    const buffer = byKey.get('k-buffer');
    assert.deepEqual(buffer.value, BINARY);
    assert.equal(buffer.headers.kind.toString(), 'buffer');
    assert.deepEqual(buffer.headers.raw, Buffer.from([0, 255]));
    assert.equal(buffer.partition, metas[0].partition);
    assert.equal(buffer.offset, metas[0].offset);
    assert.equal(buffer.topic, topic);

    const string = byKey.get('k-string');
    assert.equal(string.text(), 'héllo ☃');
    assert.deepEqual(string.headerList.map(([k, v]) => [k, v.toString()]), [['kind', 'string'], ['dup', 'a'], ['dup', 'b']]);
    assert.equal(string.headers.dup.toString(), 'b');

    const json = byKey.get('k-json');
    assert.deepEqual(json.json(), { item: 'book', qty: 2, tags: ['x', null] });
    assert.equal(json.headers.none, null);
    assert.equal(json.headers.kind.toString(), 'json');

    assert.equal(byKey.get('k-big').text(), COMPRESSIBLE);
    assert.equal(byKey.get('k-tombstone').value, null);
    assert.equal(byKey.get('k-tombstone').json(), null);

    // The codec was applied: 20 kB of one letter is stored in far fewer bytes when compressed.
    const info = await admin.describeTopic(topic);
    const stored = info.partitions.reduce((sum, p) => sum + p.sizeBytes, 0);
    if (compression === 'none') assert.ok(stored > COMPRESSIBLE.length, `stored ${stored} bytes`);
    else assert.ok(stored < COMPRESSIBLE.length / 4, `stored ${stored} bytes with ${compression}`);
  });
}

test('same key → same partition as REST produce and the Rust partitioner', async () => {
  for (const partitions of [3, 6]) {
    const topic = uniqueTopic(`keys-${partitions}`);
    await admin.createTopic(topic, { partitions });
    const producer = new Producer(clientOptions(server));
    const keys = Array.from({ length: 24 }, (_, i) => `user-${i}`);
    const metas = await Promise.all(keys.map((key) => producer.send({ topic, key, value: 'v' })));
    await producer.close();
    const answer = await rest(server, 'POST', `/v1/tenants/default/topics/${topic}/records`, {
      records: keys.map((key) => ({ key, value: 'v' })),
    });
    const restPartitions = answer.results.map((r) => r.partition);
    assert.deepEqual(metas.map((m) => m.partition), restPartitions);
    assert.deepEqual(keys.map((k) => partitionForKey(k, partitions)), restPartitions);
    assert.ok(new Set(restPartitions).size > 1, 'keys spread over partitions');
  }
});

test('records of one key keep their send order', async () => {
  const topic = uniqueTopic('order');
  await admin.createTopic(topic, { partitions: 2 });
  const producer = new Producer({ ...clientOptions(server), lingerMs: 1 });
  const metas = await Promise.all(Array.from({ length: 50 }, (_, i) => producer.send({ topic, key: 'same', value: `${i}` })));
  await producer.close();
  assert.deepEqual(metas.map((m) => m.offset), Array.from({ length: 50 }, (_, i) => i));
});

test('producer options reach the Rust SDK (acks, idempotence, buffer, whenFull)', async () => {
  const topic = uniqueTopic('options');
  await admin.createTopic(topic);
  const fireAndForget = new Producer({ ...clientOptions(server), acks: 'none', idempotence: false });
  const meta = await fireAndForget.send({ topic, value: 'x' });
  assert.equal(meta.offset, -1, 'acks none reports no offset');
  await fireAndForget.close();

  const conflicting = new Producer({ ...clientOptions(server), acks: 'none' });
  await assert.rejects(conflicting.connect(), { kind: 'invalid_argument', message: /idempotence/ });

  const small = new Producer({ ...clientOptions(server), bufferBytes: 1024, batchBytes: 1024, lingerMs: 60_000, whenFull: 'fail' });
  const first = small.send({ topic, value: Buffer.alloc(600) });
  await assert.rejects(small.send({ topic, value: Buffer.alloc(600) }), { kind: 'buffer_full', retryable: true });
  await small.flush();
  assert.equal((await first).offset, 1, 'flush sent the lingering batch');
  await small.close();
});

test('errors are WeirErrors with code and retryable', async () => {
  const missing = uniqueTopic('missing');
  const producer = new Producer(clientOptions(server));
  await assert.rejects(producer.send({ topic: missing, value: 'x' }), (e) => {
    assert.ok(e instanceof WeirError);
    assert.equal(e.name, 'WeirError');
    assert.equal(e.code, 'TOPIC_NOT_FOUND');
    assert.equal(e.kind, 'server');
    assert.equal(e.retryable, false);
    assert.match(e.message, /TOPIC_NOT_FOUND/);
    return true;
  });
  await assert.rejects(admin.describeTopic(missing), { code: 'TOPIC_NOT_FOUND', retryable: false });
  const consumer = new Consumer({ ...clientOptions(server), group: 'g-missing', topics: [missing] });
  await assert.rejects(consumer.poll({ timeoutMs: 100 }), { name: 'WeirError', code: 'TOPIC_NOT_FOUND' });
  await consumer.close();

  const topic = uniqueTopic('exists');
  await admin.createTopic(topic);
  await assert.rejects(admin.createTopic(topic), { code: 'TOPIC_ALREADY_EXISTS' });

  // The CommonJS entry exports the very same class.
  const require = createRequire(import.meta.url);
  assert.equal(require('../index.js').WeirError, WeirError);

  // Credentials are checked.
  const stranger = new Admin({ ...clientOptions(server), token: 'weir_0000000000000000_' + '0'.repeat(64) });
  await assert.rejects(stranger.listTopics(), { code: 'UNAUTHENTICATED' });

  // Client-side failures carry no server code.
  assert.throws(() => new Producer({ ...clientOptions(server), compression: 'brotli' }), { kind: 'invalid_argument', code: null, message: /compression must be none, gzip, snappy, lz4 or zstd, not "brotli"/ });
  assert.throws(() => new Producer({ ...clientOptions(server), linger: 5 }), { kind: 'invalid_argument' });
  assert.throws(() => new Producer({ ...clientOptions(server), lingerMs: -1 }), { kind: 'invalid_argument' });
  assert.throws(() => new Producer({ ...clientOptions(server), lingerMs: 'soon' }), { kind: 'invalid_argument' });
  await assert.rejects(producer.send({ topic, value: 1n }), { kind: 'invalid_argument' });
  await assert.rejects(producer.send({ topic, key: 42, value: 'x' }), { kind: 'invalid_argument' });
  await assert.rejects(producer.send({ value: 'x' }), { kind: 'invalid_argument' });
  await producer.close();
  await assert.rejects(producer.send({ topic, value: 'late' }), { kind: 'closed', retryable: false });

  const unreachable = new Producer({ url: 'http://127.0.0.1:1', token: server.token });
  await assert.rejects(unreachable.send({ topic, value: 'x' }), { kind: 'transport', retryable: true, code: null });
});

test('AbortSignal ends a long poll, and the event loop keeps running meanwhile', async () => {
  const topic = uniqueTopic('abort');
  await admin.createTopic(topic);
  const consumer = new Consumer({ ...clientOptions(server), group: `g-${topic}`, topics: [topic] });
  await consumer.connect();
  let ticks = 0;
  const ticker = setInterval(() => {
    ticks += 1;
  }, 10);
  const controller = new AbortController();
  const started = Date.now();
  setTimeout(() => controller.abort(new Error('enough')), 300);
  await assert.rejects(consumer.poll({ timeoutMs: 30_000, signal: controller.signal }), (e) => {
    assert.ok(e instanceof WeirError);
    assert.equal(e.kind, 'aborted');
    assert.equal(e.cause.message, 'enough');
    return true;
  });
  clearInterval(ticker);
  const waited = Date.now() - started;
  assert.ok(waited < 10_000, `the abort ended the wait (after ${waited} ms)`);
  assert.ok(ticks >= 5, `timers ran while the poll waited (${ticks} ticks)`);

  // An already aborted signal rejects at once; so does an aborted iteration.
  await assert.rejects(consumer.poll({ signal: AbortSignal.abort() }), { kind: 'aborted' });
  const iteration = consumer.records({ signal: AbortSignal.timeout(200) });
  await assert.rejects(iteration.next(), { kind: 'aborted' });

  // A send aborted before it is queued stores nothing; flush takes a signal too.
  const sender = new Producer(clientOptions(server));
  await assert.rejects(sender.send({ topic, value: 'never' }, { signal: AbortSignal.abort() }), { kind: 'aborted' });
  await assert.rejects(sender.flush({ signal: AbortSignal.abort() }), { kind: 'aborted' });
  await sender.flush({ signal: AbortSignal.timeout(10_000) });
  await sender.close();
  assert.deepEqual(await admin.listOffsets(topic, { spec: 'latest' }), [{ partition: 0, offset: 0 }]);

  // The consumer still works after an aborted wait.
  const producer = new Producer(clientOptions(server));
  await producer.send({ topic, value: 'after abort' });
  await producer.close();
  const [record] = await pollUntil(consumer, 1);
  assert.equal(record.text(), 'after abort');

  // close() ends a poll that is waiting.
  const waiting = consumer.poll({ timeoutMs: 30_000 });
  await new Promise((r) => setTimeout(r, 100));
  await consumer.close();
  assert.deepEqual(await waiting, []);
  await assert.rejects(consumer.poll(), { kind: 'closed' });
});

// A worker thread that polls `topic` in its own group with an AbortSignal, says 'waiting' once
// the poll is under way, aborts it on 'abort', and reports how the poll ended.
const POLLING_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { Consumer } = require(workerData.sdk);
(async () => {
  const consumer = new Consumer({ ...workerData.options, group: workerData.group, topics: [workerData.topic] });
  await consumer.connect();
  const controller = new AbortController();
  parentPort.on('message', () => controller.abort());
  const started = Date.now();
  const poll = consumer.poll({ timeoutMs: workerData.timeoutMs, signal: controller.signal });
  parentPort.postMessage('waiting');
  let outcome;
  try {
    outcome = { records: (await poll).length };
  } catch (e) {
    outcome = { error: e.kind };
  }
  outcome.ms = Date.now() - started;
  await consumer.close();
  parentPort.postMessage(outcome);
})().catch((e) => parentPort.postMessage({ error: String(e) }));
`;

test('an AbortSignal cancels only its own call, also across worker threads', async () => {
  const topic = uniqueTopic('abort-workers');
  await admin.createTopic(topic);
  // Each worker has its own JavaScript globals but shares the addon; their first cancellable
  // calls must still get different ids, or aborting one would end the other's wait.
  const start = (name, timeoutMs) => {
    const worker = new Worker(POLLING_WORKER, {
      eval: true,
      workerData: { sdk: path.join(SDK_DIR, 'index.js'), options: clientOptions(server), topic, group: `g-${name}-${topic}`, timeoutMs },
    });
    const messages = [];
    let wake = () => {};
    worker.on('message', (m) => {
      messages.push(m);
      wake();
    });
    worker.on('error', (e) => {
      messages.push({ error: String(e) });
      wake();
    });
    const next = async () => {
      while (messages.length === 0) await new Promise((r) => (wake = r));
      return messages.shift();
    };
    return { worker, next };
  };
  const first = start('first', 20_000);
  let second;
  try {
    assert.equal(await first.next(), 'waiting');
    second = start('second', 2_000);
    assert.equal(await second.next(), 'waiting');
    first.worker.postMessage('abort');
    const [aborted, waited] = await Promise.all([first.next(), second.next()]);
    assert.equal(aborted.error, 'aborted', `the first poll was aborted: ${JSON.stringify(aborted)}`);
    assert.ok(aborted.ms < 10_000, `the abort ended the first wait (after ${aborted.ms} ms)`);
    assert.deepEqual({ records: waited.records, error: waited.error }, { records: 0, error: undefined }, JSON.stringify(waited));
    assert.ok(waited.ms >= 1_500, `the second poll waited its own time out (${waited.ms} ms)`);
  } finally {
    await Promise.all([first.worker.terminate(), second?.worker.terminate()]);
  }
});

test('sends cross into Rust in groups: call order within a partition, every promise settled once, sendBatch in order', async () => {
  const topic = uniqueTopic('grouped');
  await admin.createTopic(topic, { partitions: 4 });
  const producer = new Producer({ ...clientOptions(server), lingerMs: 5 });
  // More than one group (4096 records each) sent without awaiting, keyed over 4 partitions.
  const count = 10_000;
  let settled = 0;
  const sends = Array.from({ length: count }, (_, i) => {
    const sent = producer.send({ topic, key: `k${i % 16}`, value: `${i}` });
    sent.then(() => { settled += 1; }, () => { settled += 1; });
    return sent;
  });
  const metas = await Promise.all(sends);
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, count, 'every promise settled exactly once');
  const last = new Map();
  metas.forEach((m, i) => {
    assert.equal(m.partition, partitionForKey(`k${i % 16}`, 4), `record ${i} follows its key`);
    const before = last.get(m.partition) ?? -1;
    assert.ok(m.offset > before, `record ${i}: offsets follow call order within partition ${m.partition}`);
    last.set(m.partition, m.offset);
  });
  const batch = await producer.sendBatch([0, 1, 2].map((i) => ({ topic, partition: 3, value: `b${i}` })));
  assert.deepEqual(batch.map((m) => m.offset), [1, 2, 3].map((d) => last.get(3) + d));
  await assert.rejects(producer.sendBatch('nope'), { kind: 'invalid_argument' });
  await producer.close();
});

test('a signal aborted while its record waits for its group drops that record only', async () => {
  const topic = uniqueTopic('aborted-in-group');
  await admin.createTopic(topic, { partitions: 1 });
  const producer = new Producer(clientOptions(server));
  const controller = new AbortController();
  const sends = Array.from({ length: 10 }, (_, i) =>
    producer.send({ topic, value: `${i}` }, i === 5 ? { signal: controller.signal } : {}));
  controller.abort(); // before the group crosses into Rust (that waits for this code to yield)
  const outcomes = await Promise.allSettled(sends);
  assert.deepEqual(outcomes.map((o) => o.status), [...Array(5).fill('fulfilled'), 'rejected', ...Array(4).fill('fulfilled')]);
  assert.equal(outcomes[5].reason.kind, 'aborted');
  assert.deepEqual(outcomes.filter((o) => o.value).map((o) => o.value.offset), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  await producer.close();
  assert.deepEqual(await admin.listOffsets(topic, { spec: 'latest' }), [{ partition: 0, offset: 9 }]);
});
