'use strict';
// Consumer and ConsumerRecord: the JavaScript face of the Rust SDK's consumer (through
// NativeConsumer). Unpacks polled records, runs the onAssign/onRevoke callbacks (queued by the
// SDK's background task, run here after each poll, connect and close) and turns AbortSignals
// into cancellations. The SDK does membership, fetching, commits and positions.

const native = require('./native.js');
const { WeirError, call, callSync, withSignal, checkKeys, invalidArgument } = require('./errors.js');

const OPTIONS = ['url', 'tenant', 'token', 'requestTimeoutMs', 'group', 'topics', 'clientId',
  'autoOffsetReset', 'autoCommit', 'autoCommitIntervalMs', 'maxPollRecords', 'prefetchBytes',
  'fetchBytes', 'fetchWaitMs', 'sessionTimeoutMs', 'heartbeatIntervalMs', 'onAssign', 'onRevoke'];

/** How long poll() waits for records when not told. */
const POLL_TIMEOUT_MS_DEFAULT = 1000;

/** A record read from a partition. */
class ConsumerRecord {
  constructor(layout, key, value, headerList) {
    this.topic = layout.topic;
    this.partition = layout.partition;
    this.offset = layout.offset;
    this.timestamp = layout.timestamp;
    this.key = key;
    this.value = value;
    this.headerList = headerList;
    this.headers = Object.fromEntries(headerList);
  }

  /** The value as UTF-8 text (null for a tombstone). */
  text() {
    return this.value === null ? null : this.value.toString('utf8');
  }

  /** The value parsed as JSON (null for a tombstone). */
  json() {
    return this.value === null ? null : JSON.parse(this.value.toString('utf8'));
  }
}

/** Records of one native poll: their bytes follow each other in `data` (see consumer.rs). */
function unpack({ data, records }) {
  let at = 0;
  const take = (len) => {
    if (len < 0) return null;
    const bytes = data.subarray(at, at + len);
    at += len;
    return bytes;
  };
  return records.map((r) => {
    const key = take(r.keyLen);
    const value = take(r.valueLen);
    const headers = r.headers.map((h) => [h.key, take(h.len)]);
    return new ConsumerRecord(r, key, value, headers);
  });
}

function tp(partition, what) {
  if (partition === null || typeof partition !== 'object' || typeof partition.topic !== 'string' ||
      typeof partition.partition !== 'number') {
    throw invalidArgument(`${what} takes { topic, partition }`);
  }
  return { topic: partition.topic, partition: partition.partition };
}

function tps(list, what) {
  if (!Array.isArray(list)) throw invalidArgument(`${what} takes a list of { topic, partition }`);
  return list.map((p) => tp(p, what));
}

function checkCallback(fn, name) {
  if (fn !== undefined && typeof fn !== 'function') throw invalidArgument(`${name} must be a function`);
  return fn;
}

class Consumer {
  #native;
  #onAssign;
  #onRevoke;
  #closed = false;

  constructor(options = {}) {
    checkKeys(options, OPTIONS, 'Consumer');
    const { onAssign, onRevoke, ...rest } = options;
    this.#onAssign = checkCallback(onAssign, 'onAssign');
    this.#onRevoke = checkCallback(onRevoke, 'onRevoke');
    this.#native = callSync(() => new native.NativeConsumer(rest));
  }

  /** Runs the assignment callbacks for the changes the SDK reported, oldest first. */
  async #changes() {
    for (const change of this.#native.takeChanges()) {
      const callback = change.assigned ? this.#onAssign : this.#onRevoke;
      if (callback) await callback(change.partitions);
    }
  }

  #refuseClosed() {
    if (this.#closed) return Promise.reject(new WeirError('the consumer is closed', { kind: 'closed' }));
    return null;
  }

  /** Connects and joins the group now (otherwise the first call does). */
  async connect() {
    await call(() => this.#native.connect());
    await this.#changes();
  }

  /** Waits up to timeoutMs (default 1000) for records; resolves with those ready. */
  async poll({ timeoutMs, maxRecords, signal } = {}) {
    const closed = this.#refuseClosed();
    if (closed) return closed;
    const wait = timeoutMs ?? POLL_TIMEOUT_MS_DEFAULT;
    const out = await withSignal(signal, 'poll', (id) => this.#native.poll(wait, maxRecords ?? undefined, id));
    await this.#changes();
    return unpack(out);
  }

  /** An async iterator of records, one at a time, until the consumer is closed. A record
   * counts as handed out (and so is committed by commit()) once the iterator yields it. */
  records({ signal } = {}) {
    let finished = false;
    const consumer = this;
    const nativeConsumer = this.#native;
    return {
      async next() {
        if (finished || consumer.#closed) return { done: true, value: undefined };
        const out = await withSignal(signal, 'iteration', (id) => nativeConsumer.poll(undefined, 1, id));
        await consumer.#changes();
        if (out.closed) {
          finished = true;
          return { done: true, value: undefined };
        }
        return { done: false, value: unpack(out)[0] };
      },
      async return() {
        finished = true;
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  [Symbol.asyncIterator]() {
    return this.records();
  }

  /** Commits the positions of every record handed out so far, or the offsets given (the next
   * offset to read per partition). */
  commit(offsets) {
    if (offsets !== undefined) {
      if (!Array.isArray(offsets)) return Promise.reject(invalidArgument('commit takes a list of { topic, partition, offset }'));
    }
    return call(() => this.#native.commit(offsets));
  }

  /** The group's committed offset of a partition (null when none). */
  committed(partition) {
    return call(() => this.#native.committed(tp(partition, 'committed')));
  }

  /** The offset of the next record poll hands out from a partition (null when unknown). */
  position(partition) {
    return call(() => this.#native.position(tp(partition, 'position')));
  }

  /** The partitions this consumer reads now. */
  assignment() {
    return call(() => this.#native.assignment());
  }

  /** Reads these partitions without group membership (a consumer without topics). */
  assign(partitions) {
    return call(() => this.#native.assign(tps(partitions, 'assign')));
  }

  /** Continues a partition at an offset. */
  seek(partition, offset) {
    return call(() => this.#native.seek(tp(partition, 'seek'), offset));
  }

  /** Continues a partition at its first record at or after a timestamp (ms since the epoch). */
  seekToTimestamp(partition, timestamp) {
    return call(() => this.#native.seekToTimestamp(tp(partition, 'seekToTimestamp'), timestamp));
  }

  /** Stops handing out records of these partitions until resume. */
  pause(partitions) {
    return call(() => this.#native.pause(tps(partitions, 'pause')));
  }

  /** Undoes pause. */
  resume(partitions) {
    return call(() => this.#native.resume(tps(partitions, 'resume')));
  }

  /** Ends waiting polls and iterations, commits (auto commit), runs onRevoke, leaves the
   * group. Idempotent. */
  async close() {
    this.#closed = true;
    await call(() => this.#native.close());
    await this.#changes();
  }
}

module.exports = { Consumer, ConsumerRecord };
