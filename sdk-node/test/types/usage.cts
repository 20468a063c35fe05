// CommonJS usage of weir-client, type-checked (never run) by test/types.test.mjs.
import weir = require('weir-client');

export async function example(url: string): Promise<number> {
  const producer = new weir.Producer({ url, compression: 'lz4', idempotence: true, whenFull: 'fail' });
  const meta = await producer.send({ topic: 't', key: Buffer.from([1]), value: null });
  await producer.close();
  const codes: Array<{ code: string; retryable: boolean }> = weir.errorCodes();
  const error = new weir.WeirError('x', { code: 'TOPIC_NOT_FOUND', retryable: false });
  return meta.partition + codes.length + (error.code === null ? 0 : 1);
}
