'use strict';
// Admin: topics, offsets, consumer groups, tenants, API keys and quotas, one Rust SDK call
// each (through NativeAdmin).

const native = require('./native.js');
const { call, callSync, checkKeys, invalidArgument, toWeirError } = require('./errors.js');
const { keyBytes } = require('./convert.js');

const OPTIONS = ['url', 'tenant', 'token', 'requestTimeoutMs'];

function opts(value, known, what) {
  const options = value ?? {};
  checkKeys(options, known, what);
  return options;
}

class Admin {
  #native;

  constructor(options = {}) {
    checkKeys(options, OPTIONS, 'Admin');
    this.#native = callSync(() => new native.NativeAdmin(options));
  }

  connect() {
    return call(() => this.#native.connect());
  }

  /** Creates a topic ({ partitions = 1, config }). */
  createTopic(name, options) {
    return call(() => {
      const { partitions = 1, config } = opts(options, ['partitions', 'config'], 'createTopic');
      return this.#native.createTopic(name, partitions, config);
    });
  }

  listTopics() {
    return call(() => this.#native.listTopics());
  }

  describeTopic(name) {
    return call(() => this.#native.describeTopic(name));
  }

  /** Changes settings ({ config }) and/or grows the partition count ({ partitions }). */
  alterTopic(name, options) {
    return call(() => {
      const { partitions, config } = opts(options, ['partitions', 'config'], 'alterTopic');
      return this.#native.alterTopic(name, partitions, config);
    });
  }

  deleteTopic(name) {
    return call(() => this.#native.deleteTopic(name));
  }

  /** Offsets per partition: { spec: 'earliest' | 'latest' | 'timestamp', timestamp, partitions }. */
  listOffsets(topic, options) {
    return call(() => {
      const { spec = 'latest', timestamp, partitions } = opts(options, ['spec', 'timestamp', 'partitions'], 'listOffsets');
      return this.#native.listOffsets(topic, spec, timestamp, partitions);
    });
  }

  partitionCount(topic) {
    return call(() => this.#native.partitionCount(topic));
  }

  listGroups() {
    return call(() => this.#native.listGroups());
  }

  describeGroup(group) {
    return call(() => this.#native.describeGroup(group));
  }

  committedOffsets(group, topics) {
    return call(() => this.#native.committedOffsets(group, topics));
  }

  deleteGroup(group) {
    return call(() => this.#native.deleteGroup(group));
  }

  /** Moves a group's committed offsets: { to, value, topics, dryRun }. */
  resetOffsets(group, options) {
    return call(() => {
      const reset = opts(options, ['to', 'value', 'topics', 'dryRun'], 'resetOffsets');
      if (typeof reset.to !== 'string') throw invalidArgument('resetOffsets needs { to }');
      return this.#native.resetOffsets(group, reset);
    });
  }

  createTenant(name) {
    return call(() => this.#native.createTenant(name));
  }

  listTenants() {
    return call(() => this.#native.listTenants());
  }

  deleteTenant(name) {
    return call(() => this.#native.deleteTenant(name));
  }

  /** Creates an API key in this client's tenant ({ scopes, expiresAtMs }); the secret is in
   * the answer's `key`, and nowhere else ever. */
  createKey(name, options) {
    return call(() => {
      const { scopes = [], expiresAtMs } = opts(options, ['scopes', 'expiresAtMs'], 'createKey');
      return this.#native.createKey(name, scopes, expiresAtMs);
    });
  }

  listKeys() {
    return call(() => this.#native.listKeys());
  }

  revokeKey(id) {
    return call(() => this.#native.revokeKey(id));
  }

  quotas(tenant) {
    return call(() => this.#native.quotas(tenant));
  }

  setQuotas(tenant, change) {
    return call(() => this.#native.setQuotas(tenant, change));
  }

  usage(tenant) {
    return call(() => this.#native.usage(tenant));
  }

  /** Nothing to release beyond what garbage collection does; here for symmetry. */
  close() {
    return Promise.resolve();
  }
}

/** The partition the producer picks for a key among `partitions` partitions (Kafka's
 * murmur2, computed by the Rust SDK). */
function partitionForKey(key, partitions) {
  const bytes = keyBytes(key);
  if (bytes === undefined) throw invalidArgument('partitionForKey needs a key');
  try {
    return native.partitionForKey(bytes, partitions);
  } catch (e) {
    throw toWeirError(e);
  }
}

module.exports = { Admin, partitionForKey };
