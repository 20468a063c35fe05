'use strict';
// WeirError, and turning every failure of a native call into one: the addon rejects with a
// message `weir-error:{json}` (see src/error.rs); anything else it throws (an argument napi
// could not convert) becomes an `invalid_argument` WeirError.

const native = require('./native.js');

const MARK = native.errorMark();

/** The one error type of the SDK: `code` is the server's error code (null when the failure
 * happened on the client side), `kind` says which kind of failure it is. */
class WeirError extends Error {
  constructor(message, { code = null, kind = code ? 'server' : 'internal', retryable = false, retryAfterMs = null, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'WeirError';
    this.code = code;
    this.kind = kind;
    this.retryable = retryable;
    this.retryAfterMs = retryAfterMs;
  }
}

/** napi's codes for arguments it could not convert. */
const ARGUMENT_CODES = new Set(['InvalidArg', 'ObjectExpected', 'StringExpected', 'NameExpected',
  'FunctionExpected', 'NumberExpected', 'BooleanExpected', 'ArrayExpected', 'BigintExpected',
  'DateExpected', 'ArrayBufferExpected']);

function toWeirError(error) {
  if (error instanceof WeirError) return error;
  const message = error && typeof error.message === 'string' ? error.message : String(error);
  if (message.startsWith(MARK)) {
    try {
      const detail = JSON.parse(message.slice(MARK.length));
      return new WeirError(detail.message, detail);
    } catch {
      // not ours after all: fall through
    }
  }
  if (error instanceof TypeError || ARGUMENT_CODES.has(error && error.code)) {
    return new WeirError(`invalid argument: ${message}`, { kind: 'invalid_argument', cause: error });
  }
  return new WeirError(message, { kind: 'internal', cause: error });
}

function invalidArgument(message) {
  return new WeirError(`invalid argument: ${message}`, { kind: 'invalid_argument' });
}

/** Runs `fn` (which calls the addon and may return a promise) and makes every failure, thrown
 * or rejected, a rejection with a WeirError. */
function call(fn) {
  try {
    return Promise.resolve(fn()).catch((e) => {
      throw toWeirError(e);
    });
  } catch (e) {
    return Promise.reject(toWeirError(e));
  }
}

/** A synchronous addon call (constructors) whose failure is thrown as a WeirError. */
function callSync(fn) {
  try {
    return fn();
  } catch (e) {
    throw toWeirError(e);
  }
}

/** `call`, cancellable by an AbortSignal: `fn` gets the cancellation id to pass to the addon;
 * the signal's abort event calls `native.cancel(id)`, which ends the native wait. The addon
 * hands out the ids, since its registry is shared by every worker thread of the process. */
function withSignal(signal, what, fn) {
  if (signal === undefined || signal === null) return call(() => fn(undefined));
  if (typeof signal.aborted !== 'boolean' || typeof signal.addEventListener !== 'function') {
    return Promise.reject(invalidArgument('signal must be an AbortSignal'));
  }
  if (signal.aborted) {
    return Promise.reject(new WeirError(`${what} was aborted`, { kind: 'aborted', cause: signal.reason }));
  }
  const id = native.cancelId();
  const onAbort = () => native.cancel(id);
  signal.addEventListener('abort', onAbort, { once: true });
  const done = () => signal.removeEventListener('abort', onAbort);
  return call(() => fn(id)).then(
    (value) => {
      done();
      return value;
    },
    (error) => {
      done();
      if (error.kind === 'aborted' && error.cause === undefined) error.cause = signal.reason;
      throw error;
    },
  );
}

/** Refuses option names the SDK does not know (a typo would otherwise be silently ignored). */
function checkKeys(options, known, what) {
  if (options === null || typeof options !== 'object') {
    throw invalidArgument(`${what} options must be an object`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw invalidArgument(`unknown ${what} option ${JSON.stringify(key)}`);
  }
}

module.exports = { WeirError, toWeirError, invalidArgument, call, callSync, withSignal, checkKeys };
