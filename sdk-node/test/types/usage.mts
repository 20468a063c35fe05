// ESM usage of weir-client, type-checked (never run) by test/types.test.mjs.
import weir, { Admin, Consumer, ConsumerRecord, Producer, WeirError, partitionForKey } from 'weir-client';
import type { RecordMetadata, TopicInfo, TopicPartition } from 'weir-client';

export async function example(url: string, token: string): Promise<void> {
  const admin = new Admin({ url, tenant: 'default', token });
  const info: TopicInfo = await admin.createTopic('orders', { partitions: 6, config: { retentionMs: 86_400_000 } });
  const sizes: number[] = info.partitions.map((p) => p.sizeBytes);

  const producer = new Producer({ url, tenant: 'default', token, compression: 'zstd', lingerMs: 5, acks: 'all' });
  const meta: RecordMetadata = await producer.send({ topic: 'orders', key: 'user-1', value: Buffer.from('x'), headers: { h: 'v' } });
  await producer.send({ topic: 'orders', value: 'text' });
  await producer.send({ topic: 'orders', value: { item: 'book' }, headers: [['a', Buffer.alloc(1)]] }, { signal: AbortSignal.timeout(1000) });
  const metas: RecordMetadata[] = await producer.sendBatch([{ topic: 'orders', value: 'a' }, { topic: 'orders', key: 'k', value: 'b' }]);
  console.log(metas.length);
  await producer.flush();
  await producer.close();

  const assigned: TopicPartition[][] = [];
  const consumer = new Consumer({
    url, tenant: 'default', token, group: 'billing', topics: ['orders'], autoCommit: false,
    onAssign: (parts) => { assigned.push(parts); },
    onRevoke: async (parts) => { assigned.push(parts); },
  });
  for await (const rec of consumer) {
    const fields: [string, number, number, Buffer | null, Buffer | null] = [rec.topic, rec.partition, rec.offset, rec.key, rec.value];
    const h: Buffer | null | undefined = rec.headers['h'];
    const parsed = rec.json<{ item: string }>();
    console.log(fields, h, parsed?.item, rec.text());
    await consumer.commit();
    break;
  }
  const batch: ConsumerRecord[] = await consumer.poll({ timeoutMs: 1000, signal: new AbortController().signal });
  await consumer.seek({ topic: 'orders', partition: 0 }, batch.length);
  await consumer.pause(await consumer.assignment());
  const committed: number | null = await consumer.committed({ topic: 'orders', partition: 0 });
  await consumer.commit([{ topic: 'orders', partition: 0, offset: committed ?? 0 }]);
  await consumer.close();

  try {
    await admin.describeTopic('nope');
  } catch (e) {
    if (e instanceof WeirError) {
      const code: string | null = e.code;
      const retry: boolean = e.retryable;
      console.log(code, retry, e.kind, e.retryAfterMs);
    }
  }
  const p: number = partitionForKey('user-1', 6) + weir.partitionForKey(Buffer.from('k'), 3);
  console.log(meta.offset, sizes, p, weir.version);
}
