'use strict';
// Consumer and ConsumerRecord: the JavaScript face of the Rust SDK's consumer (through
// NativeConsumer). Unpacks polled records, runs the onAssign/onRevoke callbacks (queued by the
// SDK's background task, run here after each poll, connect and close) and turns AbortSignals
// into cancellations. The SDK does membership, fetching, commits and positions.
//
// Iteration (`for await`) does not cross into Rust per record: it polls a chunk (up to
// maxPollRecords) and hands it out one record at a time. The records of the chunk not yet
// handed out are given back to the SDK (`putBack`) before anything that must not count
// them or that changes what comes next: commit() without offsets, poll(), position(),
// seek(), pause(), assign(), close() and the end of an iteration. So commits cover exactly
// the records the iterator handed out, and a seek takes effect at the next record. A
// rebalance that takes partitions away while a chunk is held commits none of the chunk's
// records (the chunk is polled ahead: auto commit stops where it begins); the iterator
// still hands them out, so the partition's next owner may read some of them again (at
// least once), and none is lost.

const native = require('./native.js');
const { WeirError, call, callSync, withSignal, checkKeys, invalidArgument } = require('./errors.js');

const OPTIONS = ['url', 'tenant', 'token', 'requestTimeoutMs', 'group', 'topics', 'clientId',
  'autoOffsetReset', 'autoCommit', 'autoCommitIntervalMs', 'maxPollRecords', 'prefetchBytes',
  'fetchBytes', 'fetchWaitMs', 'sessionTimeoutMs', 'heartbeatIntervalMs', 'onAssign', 'onRevoke'];

/** How long poll() waits for records when not told. */
const POLL_TIMEOUT_MS_DEFAULT = 1000;

/** A record read from a partition. */
class ConsumerRecord {
  constructor(topic, partition, offset, timestamp, key, value, headerList) {
    this.topic = topic;
    this.partition = partition;
    this.offset = offset;
    this.timestamp = timestamp;
    this.key = key;
    this.value = value;
    this.headerList = headerList;
    this.headers = headerList.length === 0 ? {} : Object.fromEntries(headerList);
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

/** Records of one native poll, from its columns: their bytes follow each other in `data`
 * (key, value, header values; see consumer.rs). */
function unpack({ data, parts, part, offset, timestamp, keyLen, valueLen, headers }) {
  let at = 0;
  const take = (len) => {
    if (len < 0) return null;
    const bytes = data.subarray(at, at + len);
    at += len;
    return bytes;
  };
  const records = new Array(offset.length);
  let withHeaders = 0;
  for (let i = 0; i < records.length; i++) {
    const key = take(keyLen[i]);
    const value = take(valueLen[i]);
    let headerList = [];
    if (withHeaders < headers.length && headers[withHeaders].index === i) {
      headerList = headers[withHeaders].headers.map((h) => [h.key, take(h.len)]);
      withHeaders += 1;
    }
    const p = parts[part[i]];
    records[i] = new ConsumerRecord(p.topic, p.partition, offset[i], timestamp[i], key, value, headerList);
  }
  return records;
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
  /** The iteration's chunk, and how many of its records were handed out. */
  #chunk = [];
  #handedOut = 0;
  /** The poll filling the chunk, while one runs. */
  #refilling = null;

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

  /** Gives the records of the chunk not yet handed out back to the SDK, and tells it the
   * others were handed out. */
  async #putBack() {
    if (this.#chunk.length === 0) return;
    const handedOut = this.#handedOut;
    this.#chunk = [];
    this.#handedOut = 0;
    await call(() => this.#native.putBack(handedOut));
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
    await this.#putBack();
    const wait = timeoutMs ?? POLL_TIMEOUT_MS_DEFAULT;
    const out = await withSignal(signal, 'poll', (id) => this.#native.poll(wait, maxRecords ?? undefined, id));
    await this.#changes();
    return unpack(out);
  }

  /** The next record of the iteration, polling a new chunk when the last one is handed out;
   * undefined once the consumer closed. Iterations waiting at once share one poll: each
   * then takes its own record of the chunk, in turn. */
  async #next(signal) {
    while (this.#handedOut >= this.#chunk.length) {
      if (this.#closed) return undefined;
      if (this.#refilling === null) {
        this.#refilling = this.#refill(signal).finally(() => {
          this.#refilling = null;
        });
      }
      if (await this.#refilling) return undefined;
    }
    const record = this.#chunk[this.#handedOut];
    this.#handedOut += 1;
    return record;
  }

  /** Polls the next chunk (ahead: see consumer.rs); resolves with whether the consumer
   * closed. The chunk is in place before the assignment callbacks run, so a callback that
   * throws loses none of it. */
  async #refill(signal) {
    this.#chunk = [];
    this.#handedOut = 0;
    const out = await withSignal(signal, 'iteration', (id) => this.#native.poll(undefined, undefined, id, true));
    this.#chunk = unpack(out);
    await this.#changes();
    return out.closed || this.#closed;
  }

  /** An async iterator of records, one at a time, until the consumer is closed. A record
   * counts as handed out (and so is committed by commit()) once the iterator yields it. */
  records({ signal } = {}) {
    let finished = false;
    const consumer = this;
    return {
      next() {
        if (finished || consumer.#closed) return Promise.resolve({ done: true, value: undefined });
        // A record of the chunk is handed out without waiting for anything.
        if (consumer.#handedOut < consumer.#chunk.length) {
          const value = consumer.#chunk[consumer.#handedOut];
          consumer.#handedOut += 1;
          return Promise.resolve({ done: false, value });
        }
        return consumer.#next(signal).then((value) => {
          if (value === undefined) {
            finished = true;
            return { done: true, value: undefined };
          }
          return { done: false, value };
        });
      },
      async return() {
        finished = true;
        await consumer.#putBack();
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
  async commit(offsets) {
    if (offsets !== undefined) {
      if (!Array.isArray(offsets)) throw invalidArgument('commit takes a list of { topic, partition, offset }');
    } else {
      await this.#putBack();
    }
    return call(() => this.#native.commit(offsets));
  }

  /** The group's committed offset of a partition (null when none). */
  committed(partition) {
    return call(() => this.#native.committed(tp(partition, 'committed')));
  }

  /** The offset of the next record poll hands out from a partition (null when unknown). */
  async position(partition) {
    const checked = tp(partition, 'position');
    await this.#putBack();
    return call(() => this.#native.position(checked));
  }

  /** The partitions this consumer reads now. */
  assignment() {
    return call(() => this.#native.assignment());
  }

  /** Reads these partitions without group membership (a consumer without topics). */
  async assign(partitions) {
    const checked = tps(partitions, 'assign');
    await this.#putBack();
    return call(() => this.#native.assign(checked));
  }

  /** Continues a partition at an offset. */
  async seek(partition, offset) {
    const checked = tp(partition, 'seek');
    await this.#putBack();
    return call(() => this.#native.seek(checked, offset));
  }

  /** Continues a partition at its first record at or after a timestamp (ms since the epoch). */
  async seekToTimestamp(partition, timestamp) {
    const checked = tp(partition, 'seekToTimestamp');
    await this.#putBack();
    return call(() => this.#native.seekToTimestamp(checked, timestamp));
  }

  /** Stops handing out records of these partitions until resume. */
  async pause(partitions) {
    const checked = tps(partitions, 'pause');
    await this.#putBack();
    return call(() => this.#native.pause(checked));
  }

  /** Undoes pause. */
  resume(partitions) {
    return call(() => this.#native.resume(tps(partitions, 'resume')));
  }

  /** Ends waiting polls and iterations, commits (auto commit), runs onRevoke, leaves the
   * group. Idempotent. */
  async close() {
    this.#closed = true;
    await this.#putBack();
    await call(() => this.#native.close());
    await this.#changes();
  }
}

module.exports = { Consumer, ConsumerRecord };
