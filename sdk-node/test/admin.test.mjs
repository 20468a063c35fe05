// Admin through the Rust SDK against a real `weir serve`: topic lifecycle, offsets, group
// lag and resets, and tenancy (tenants, scoped keys, quotas, usage) with the results as plain
// camelCase objects.

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

test('topic lifecycle and offsets', async () => {
  const topic = uniqueTopic('admin');
  const created = await admin.createTopic(topic, { partitions: 2, config: { retentionMs: 3_600_000 } });
  assert.equal(created.name, topic);
  assert.deepEqual(created.partitions.map((p) => p.partition), [0, 1]);
  assert.equal(created.config.retentionMs, 3_600_000);
  assert.ok((await admin.listTopics()).some((t) => t.name === topic));
  assert.equal(await admin.partitionCount(topic), 2);

  const altered = await admin.alterTopic(topic, { partitions: 3, config: { retentionMs: 7_200_000 } });
  assert.equal(altered.partitions.length, 3);
  assert.equal(altered.config.retentionMs, 7_200_000);

  const producer = new Producer(clientOptions(server));
  const before = Date.now();
  await producer.send({ topic, partition: 1, value: 'a' });
  await producer.send({ topic, partition: 1, value: 'b' });
  await producer.close();
  const latest = await admin.listOffsets(topic, { spec: 'latest', partitions: [1] });
  assert.deepEqual(latest, [{ partition: 1, offset: 2 }]);
  const earliest = await admin.listOffsets(topic, { spec: 'earliest' });
  assert.deepEqual(earliest.map((o) => o.offset), [0, 0, 0]);
  const byTime = await admin.listOffsets(topic, { spec: 'timestamp', timestamp: before - 60_000, partitions: [1] });
  assert.deepEqual(byTime, [{ partition: 1, offset: 0 }]);
  const described = await admin.describeTopic(topic);
  assert.equal(described.partitions[1].highWatermark, 2);

  await admin.deleteTopic(topic);
  await assert.rejects(admin.describeTopic(topic), { code: 'TOPIC_NOT_FOUND' });
});

test('group lag, committed offsets and resets', async () => {
  const topic = uniqueTopic('lag');
  const group = `g-${topic}`;
  await admin.createTopic(topic, { partitions: 1 });
  const producer = new Producer(clientOptions(server));
  await Promise.all(['a', 'b', 'c', 'd'].map((value) => producer.send({ topic, key: 'k', value })));
  await producer.close();
  const consumer = new Consumer({ ...clientOptions(server), group, topics: [topic], autoCommit: false, autoOffsetReset: 'earliest' });
  const first = await consumer.poll({ timeoutMs: 10_000, maxRecords: 1 });
  assert.equal(first.length, 1);
  await consumer.commit();
  const described = await admin.describeGroup(group);
  assert.equal(described.members.length, 1);
  assert.deepEqual(described.members[0].assignment, [{ topic, partitions: [0] }]);
  assert.equal(described.totalLag, 3);
  assert.deepEqual(described.partitions.map((p) => [p.committedOffset, p.highWatermark, p.lag]), [[1, 4, 3]]);
  assert.ok((await admin.listGroups()).some((g) => g.group === group && g.members === 1));
  await consumer.close();

  const preview = await admin.resetOffsets(group, { to: 'earliest', dryRun: true });
  assert.deepEqual(preview.map((c) => [c.previous, c.offset]), [[1, 0]]);
  assert.deepEqual((await admin.committedOffsets(group, [topic])).map((c) => c.offset), [1], 'a dry run changes nothing');
  await admin.resetOffsets(group, { to: 'shift', value: 2 });
  assert.deepEqual((await admin.committedOffsets(group)).map((c) => c.offset), [3]);

  const again = new Consumer({ ...clientOptions(server), group, topics: [topic], autoCommit: false });
  const rest = await pollUntil(again, 1);
  assert.equal(rest[0].text(), 'd', 'the reset moved the group to offset 3');
  await again.close();
  await assert.rejects(admin.resetOffsets(group, { to: 'offset' }), { kind: 'invalid_argument' });
  await admin.deleteGroup(group);
  await assert.rejects(admin.describeGroup(group), { code: 'GROUP_NOT_FOUND' });
});

test('tenants, scoped keys, quotas and usage', async () => {
  const tenant = `t${process.pid}`;
  const created = await admin.createTenant(tenant);
  assert.equal(created.name, tenant);
  assert.ok((await admin.listTenants()).some((t) => t.name === tenant));
  const quotas = await admin.setQuotas(tenant, { topics: 2, produceBytesPerSec: 1_000_000 });
  assert.equal(quotas.topics, 2);
  assert.equal(quotas.produceBytesPerSec, 1_000_000);

  const tenantAdmin = new Admin({ ...clientOptions(server), tenant });
  const key = await tenantAdmin.createKey('orders-writer', { scopes: ['topics:write:orders-*', 'topics:admin'] });
  assert.match(key.key, /^weir_/);
  assert.deepEqual(key.info.scopes, ['topics:write:orders-*', 'topics:admin']);
  assert.equal((await tenantAdmin.quotas()).topics, 2);

  const scoped = new Admin({ url: server.grpc, tenant, token: key.key });
  await scoped.createTopic('orders-eu');
  const producer = new Producer({ url: server.grpc, tenant, token: key.key });
  await producer.send({ topic: 'orders-eu', value: 'x' });
  await producer.close();
  await scoped.createTopic('audit');
  await assert.rejects(scoped.createTopic('third'), { code: 'COUNT_QUOTA_EXCEEDED' });
  const refused = new Producer({ url: server.grpc, tenant, token: key.key });
  await assert.rejects(refused.send({ topic: 'audit', value: 'x' }), { code: 'FORBIDDEN', retryable: false });
  await refused.close();
  await assert.rejects(scoped.listKeys(), { code: 'FORBIDDEN' });
  const usage = await admin.usage(tenant);
  assert.equal(usage.topics, 2);

  const keys = await tenantAdmin.listKeys();
  assert.deepEqual(keys.map((k) => k.name), ['orders-writer']);
  await tenantAdmin.revokeKey(key.info.id);
  await assert.rejects(scoped.listTopics(), { code: 'UNAUTHENTICATED' });
  await assert.rejects(admin.deleteTenant(tenant), { code: 'TENANT_NOT_EMPTY' });
  await tenantAdmin.deleteTopic('orders-eu');
  await tenantAdmin.deleteTopic('audit');
  await admin.deleteTenant(tenant);
  await assert.rejects(admin.quotas(tenant), { code: 'TENANT_NOT_FOUND' });
});
