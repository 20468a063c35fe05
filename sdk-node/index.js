'use strict';
// weir-client: Node.js client of Weir, wrapping the Rust SDK (crate `weir`) through a napi-rs
// addon. CommonJS entry; index.mjs re-exports the same objects for ESM.

const native = require('./lib/native.js');
const { WeirError } = require('./lib/errors.js');
const { Producer } = require('./lib/producer.js');
const { Consumer, ConsumerRecord } = require('./lib/consumer.js');
const { Admin, partitionForKey } = require('./lib/admin.js');

/** Every error code the server may send, with whether a retry may succeed. */
function errorCodes() {
  return native.errorCodes();
}

const version = native.version();

module.exports = { Admin, Producer, Consumer, ConsumerRecord, WeirError, partitionForKey, errorCodes, version };
