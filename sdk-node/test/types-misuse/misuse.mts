// Misuse the declarations must refuse: each marked line is exactly one tsc error.
import { Consumer, Producer, WeirError } from 'weir-client';

export async function misuse(): Promise<void> {
  const producer = new Producer({ compression: 'brotli' }); // error: unknown codec
  await producer.send({ topik: 'orders', value: 'x' }); // error: unknown field
  const consumer = new Consumer({ autoOffsetReset: 'oldest' }); // error: unknown reset
  const offset: string = (await consumer.poll())[0].offset; // error: offset is a number
  const code: number = new WeirError('x').code; // error: code is a string or null
  console.log(offset, code);
}
