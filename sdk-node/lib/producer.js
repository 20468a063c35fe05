'use strict';
// Producer: the JavaScript face of the Rust SDK's producer (through NativeProducer). Turns
// records into bytes and AbortSignals into cancellations; the SDK partitions, batches,
// compresses and retries.

const native = require('./native.js');
const { call, callSync, withSignal, checkKeys, toWeirError } = require('./errors.js');
const { recordIn } = require('./convert.js');

const OPTIONS = ['url', 'tenant', 'token', 'requestTimeoutMs', 'compression', 'lingerMs', 'batchBytes',
  'bufferBytes', 'maxInFlight', 'acks', 'idempotence', 'deliveryTimeoutMs', 'retryBackoffMs',
  'maxBlockMs', 'whenFull'];

class Producer {
  #native;

  constructor(options = {}) {
    checkKeys(options, OPTIONS, 'Producer');
    this.#native = callSync(() => new native.NativeProducer(options));
  }

  /** Connects now (otherwise the first send does). */
  connect() {
    return call(() => this.#native.connect());
  }

  /** Queues the record (in call order) and resolves with where it was stored. */
  send(record, { signal } = {}) {
    let input;
    try {
      input = recordIn(record);
    } catch (e) {
      return Promise.reject(toWeirError(e));
    }
    return withSignal(signal, 'send', (id) => this.#native.send(input, id));
  }

  /** Sends every batch now; resolves once every record sent before is stored or failed. */
  flush({ signal } = {}) {
    return withSignal(signal, 'flush', (id) => this.#native.flush(id));
  }

  /** Flushes, then stops; later sends reject with kind "closed". */
  close() {
    return call(() => this.#native.close());
  }
}

module.exports = { Producer };
