'use strict';
// Producer: the JavaScript face of the Rust SDK's producer (through NativeProducer). Turns
// records into bytes and AbortSignals into cancellations; the SDK partitions, batches,
// compresses and retries.
//
// `send` does not cross into Rust per record: one crossing, with its own promise, cost more
// than the SDK's whole send. Records wait in a queue here and go over as one `sendMany` call
// once per microtask (after the code that sent them yields) or every SEND_GROUP_MAX records,
// in call order, as columns (convert.js `groupIn`). A record the SDK refuses at once fails
// at once; the others of a group settle together when `delivered` says the whole group is
// stored. A record whose signal
// aborts while it waits here is dropped; after it went over, the abort only stops the wait.

const native = require('./native.js');
const { call, callSync, checkKeys, invalidArgument, toWeirError, withSignal, WeirError } = require('./errors.js');
const { groupIn, recordIn } = require('./convert.js');

const OPTIONS = ['url', 'tenant', 'token', 'requestTimeoutMs', 'compression', 'lingerMs', 'batchBytes',
  'bufferBytes', 'maxInFlight', 'acks', 'idempotence', 'deliveryTimeoutMs', 'retryBackoffMs',
  'maxBlockMs', 'whenFull'];

/** Most records one crossing into Rust carries. */
const SEND_GROUP_MAX = 4096;

function aborted(what, signal) {
  return new WeirError(`${what} was aborted`, { kind: 'aborted', cause: signal.reason });
}

function checkSignal(signal) {
  if (signal === undefined || signal === null) return null;
  if (typeof signal.aborted !== 'boolean' || typeof signal.addEventListener !== 'function') {
    throw invalidArgument('signal must be an AbortSignal');
  }
  return signal;
}

// The resolve and reject functions of the promise being made (see `send`): taken by one
// shared executor, so a send allocates no closure of its own for them.
let resolveNext = null;
let rejectNext = null;
function takeSettlers(resolve, reject) {
  resolveNext = resolve;
  rejectNext = reject;
}

/** One record waiting for its outcome: its fields as the addon takes them (`recordIn`) and
 * its promise's settlers. */
class Pending {
  constructor(record) {
    this.topic = undefined;
    this.key = undefined;
    this.value = undefined;
    this.headers = undefined;
    this.partition = undefined;
    this.timestamp = undefined;
    recordIn(record, this);
    this.signal = null;
    this.resolve = null;
    this.reject = null;
    this.settled = false;
    this.onAbort = null;
  }

  /** The record's promise; `signal` aborts it while it waits. */
  promise(signal) {
    const promise = new Promise(takeSettlers);
    this.resolve = resolveNext;
    this.reject = rejectNext;
    resolveNext = null;
    rejectNext = null;
    if (signal) {
      this.signal = signal;
      this.onAbort = () => this.fail(aborted('send', signal));
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
    return promise;
  }

  done() {
    this.settled = true;
    if (this.onAbort) this.signal.removeEventListener('abort', this.onAbort);
  }

  succeed(value) {
    if (this.settled) return;
    this.done();
    this.resolve(value);
  }

  fail(error) {
    if (this.settled) return;
    this.done();
    this.reject(error);
  }
}

function failure(error) {
  return toWeirError(new Error(error));
}

/** Settles a group's records from `delivered`'s columns (offset NaN: refused or failed). */
function settle(group, delivered) {
  for (const { index, error } of delivered.failed) group[index].fail(failure(error));
  const { partition, offset, timestamp } = delivered;
  for (let i = 0; i < group.length; i++) {
    if (i >= offset.length || Number.isNaN(offset[i])) continue;
    const p = group[i];
    p.succeed({ topic: p.topic, partition: partition[i], offset: offset[i], timestamp: timestamp[i] });
  }
}

class Producer {
  #native;
  #queue = [];
  #scheduled = false;

  constructor(options = {}) {
    checkKeys(options, OPTIONS, 'Producer');
    this.#native = callSync(() => new native.NativeProducer(options));
  }

  /** Connects now (otherwise the first send does). */
  connect() {
    return call(() => this.#native.connect());
  }

  /** Queues the record (in call order) and resolves with where it was stored. */
  send(record, options) {
    let pending;
    let signal;
    try {
      pending = new Pending(record);
      signal = checkSignal(options === undefined || options === null ? undefined : options.signal);
    } catch (e) {
      return Promise.reject(toWeirError(e));
    }
    if (signal && signal.aborted) return Promise.reject(aborted('send', signal));
    const promise = pending.promise(signal);
    this.#queue.push(pending);
    if (this.#queue.length >= SEND_GROUP_MAX) {
      this.#dispatch();
    } else if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#dispatchSoon);
    }
    return promise;
  }

  #dispatchSoon = () => this.#dispatch();

  /** Queues `records` (in order, after earlier sends) and resolves with where each was
   * stored, in the same order; rejects with the first failure. */
  sendBatch(records, options = {}) {
    if (!Array.isArray(records)) return Promise.reject(invalidArgument('sendBatch takes an array of records'));
    return Promise.all(records.map((r) => this.send(r, options)));
  }

  /** Hands every waiting record to the native producer as one group. */
  #dispatch() {
    this.#scheduled = false;
    const group = this.#queue.filter((p) => !p.settled);
    this.#queue = [];
    if (group.length === 0) return;
    const failAll = (error) => group.forEach((p) => p.fail(error));
    call(() => this.#native.sendMany(groupIn(group))).then((queued) => {
      // Records the SDK refused at once (a full buffer, a closed producer) fail now; the
      // others settle together once the group is delivered.
      for (const { index, error } of queued.refused) group[index].fail(failure(error));
      return call(() => this.#native.delivered(queued.group)).then(
        (delivered) => settle(group, delivered),
        failAll,
      );
    }, failAll);
  }

  /** Sends every batch now; resolves once every record sent before is stored or failed. */
  flush({ signal } = {}) {
    this.#dispatch();
    return withSignal(signal, 'flush', (id) => this.#native.flush(id));
  }

  /** Flushes, then stops; later sends reject with kind "closed". */
  close() {
    this.#dispatch();
    return call(() => this.#native.close());
  }
}

module.exports = { Producer, SEND_GROUP_MAX };
