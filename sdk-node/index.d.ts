// Type declarations of weir-client (hand-written: they describe the JavaScript classes in lib/,
// which wrap the native addon). Checked by `tsc --strict` in the test suite.

/// <reference types="node" />

/** Bytes a key or header value may be given as. */
export type Bytes = Buffer | Uint8Array | ArrayBufferView | ArrayBuffer | string;

/** A value: bytes or text as is; anything else is sent as its JSON text. */
export type Value = Bytes | object | number | boolean | null | undefined;

/** Headers: an object, a Map or a list of [name, value] pairs (names may repeat in a list). */
export type Headers =
  | Record<string, Bytes | null>
  | Map<string, Bytes | null>
  | ReadonlyArray<readonly [string, Bytes | null]>;

export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
export type Acks = 'none' | 'leader' | 'all';

/** Where and as whom a client connects. */
export interface ClientOptions {
  /** gRPC address of a Weir node, or several separated by commas (the first that answers is
   * used); default http://127.0.0.1:8781. */
  url?: string;
  /** Tenant whose topics and groups to use; default "default". */
  tenant?: string;
  /** API key or JWT, sent as `authorization: Bearer`. */
  token?: string | null;
  /** Bound on every call; default 30000. */
  requestTimeoutMs?: number;
}

/** Producer settings; unset ones keep the Rust SDK's defaults. */
export interface ProducerOptions extends ClientOptions {
  /** Codec for whole batches; default "none". */
  compression?: Compression;
  /** How long a partition's batch waits for more records; default 5. */
  lingerMs?: number;
  /** Batch size (estimated bytes) sent without waiting for linger; default 256 KiB. */
  batchBytes?: number;
  /** Bound on bytes sent but not yet acknowledged; default 32 MiB. */
  bufferBytes?: number;
  /** Batches in flight per partition; default 5 (at most 5 with idempotence). */
  maxInFlight?: number;
  /** When the server acknowledges; default "leader". */
  acks?: Acks;
  /** Producer id and sequences so retries never duplicate or reorder; default true. */
  idempotence?: boolean;
  /** Bound on a record's time from send to outcome, retries included; default 120000. */
  deliveryTimeoutMs?: number;
  /** First wait before a retry (doubling); default 100. */
  retryBackoffMs?: number;
  /** Longest wait of send for buffer space; default 60000. */
  maxBlockMs?: number;
  /** What send does on a full buffer; default "wait". */
  whenFull?: 'wait' | 'fail';
}

/** A record to send. */
export interface ProducerRecord {
  topic: string;
  /** Records with the same key go to the same partition (Kafka's murmur2). */
  key?: Bytes | null;
  /** null or undefined: a tombstone. */
  value?: Value;
  headers?: Headers;
  /** An explicit partition; wins over the key. */
  partition?: number;
  /** Milliseconds since the epoch; default now. */
  timestamp?: number;
}

/** Where a record was stored. */
export interface RecordMetadata {
  topic: string;
  partition: number;
  /** -1 with acks "none". */
  offset: number;
  timestamp: number;
}

/** Options of a call that may wait long. */
export interface WaitOptions {
  /** Aborting ends the wait with a WeirError of kind "aborted". */
  signal?: AbortSignal;
}

export declare class Producer {
  constructor(options?: ProducerOptions);
  /** Connects now (otherwise the first send does). */
  connect(): Promise<void>;
  /** Queues the record (in call order) and resolves once it is stored. */
  send(record: ProducerRecord, options?: WaitOptions): Promise<RecordMetadata>;
  /** Queues `records` in order (after earlier sends) and resolves with where each was
   * stored, in the same order; rejects with the first failure. */
  sendBatch(records: ProducerRecord[], options?: WaitOptions): Promise<RecordMetadata[]>;
  /** Sends every batch now; resolves once every record sent before is stored or failed. */
  flush(options?: WaitOptions): Promise<void>;
  /** Flushes, then stops; later sends reject with kind "closed". */
  close(): Promise<void>;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface TopicPartitionOffset extends TopicPartition {
  /** The next offset to read. */
  offset: number;
}

/** Consumer settings; unset ones keep the Rust SDK's defaults. */
export interface ConsumerOptions extends ClientOptions {
  /** Consumer group; needed with topics and for commits. */
  group?: string;
  /** Topics to subscribe to as a group member (or none, then `assign`). */
  topics?: string[];
  clientId?: string;
  /** Start of partitions without a committed offset; default "latest". */
  autoOffsetReset?: 'earliest' | 'latest';
  /** Commit handed-out positions every autoCommitIntervalMs, on revocation and close; default true. */
  autoCommit?: boolean;
  /** Default 5000. */
  autoCommitIntervalMs?: number;
  /** Most records one poll returns; default 500. */
  maxPollRecords?: number;
  /** Bound on prefetched bytes; default 16 MiB. */
  prefetchBytes?: number;
  /** max_bytes of one fetch; default 1 MiB. */
  fetchBytes?: number;
  /** Long-poll wait of one fetch; default 500. */
  fetchWaitMs?: number;
  /** Group session timeout; default 30000. */
  sessionTimeoutMs?: number;
  /** Heartbeat interval; default 3000. */
  heartbeatIntervalMs?: number;
  /** Called (after a poll, connect or close) with partitions given to this member. */
  onAssign?: (partitions: TopicPartition[]) => void | Promise<void>;
  /** Called with partitions taken from this member (already committed in auto mode). */
  onRevoke?: (partitions: TopicPartition[]) => void | Promise<void>;
}

export interface PollOptions extends WaitOptions {
  /** Longest wait for records; default 1000. */
  timeoutMs?: number;
  /** At most this many records (and at most maxPollRecords). */
  maxRecords?: number;
}

/** A record read from a partition. */
export declare class ConsumerRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  /** null: a null key. */
  readonly key: Buffer | null;
  /** null: a tombstone. */
  readonly value: Buffer | null;
  /** Headers by name (the last one of a repeated name). */
  readonly headers: Record<string, Buffer | null>;
  /** Every header in order. */
  readonly headerList: Array<[string, Buffer | null]>;
  /** The value as UTF-8 text. */
  text(): string | null;
  /** The value parsed as JSON. */
  json<T = unknown>(): T | null;
}

export declare class Consumer implements AsyncIterable<ConsumerRecord> {
  constructor(options?: ConsumerOptions);
  /** Connects and joins the group now (otherwise the first call does). */
  connect(): Promise<void>;
  /** Waits up to timeoutMs for records; resolves with those ready (maybe none). */
  poll(options?: PollOptions): Promise<ConsumerRecord[]>;
  /** Records one at a time until the consumer is closed; `break` leaves it open. */
  records(options?: WaitOptions): AsyncIterableIterator<ConsumerRecord>;
  [Symbol.asyncIterator](): AsyncIterableIterator<ConsumerRecord>;
  /** Commits the positions of every record handed out, or these offsets. */
  commit(offsets?: TopicPartitionOffset[]): Promise<void>;
  /** The group's committed offset (null: none). */
  committed(partition: TopicPartition): Promise<number | null>;
  /** The offset of the next record poll hands out (null: not known yet). */
  position(partition: TopicPartition): Promise<number | null>;
  assignment(): Promise<TopicPartition[]>;
  /** Reads these partitions without group membership. */
  assign(partitions: TopicPartition[]): Promise<void>;
  seek(partition: TopicPartition, offset: number): Promise<void>;
  seekToTimestamp(partition: TopicPartition, timestamp: number): Promise<void>;
  pause(partitions: TopicPartition[]): Promise<void>;
  resume(partitions: TopicPartition[]): Promise<void>;
  /** Ends waits, commits (auto commit), runs onRevoke, leaves the group. */
  close(): Promise<void>;
}

export interface TopicConfig {
  retentionMs?: number | null;
  retentionBytes?: number | null;
  segmentBytes?: number | null;
  segmentMs?: number | null;
  batchBytesMax?: number | null;
  flushRecords?: number | null;
  flushMs?: number | null;
}

export interface PartitionInfo {
  partition: number;
  logStartOffset: number;
  highWatermark: number;
  sizeBytes: number;
  leader: number;
}

export interface TopicInfo {
  name: string;
  partitions: PartitionInfo[];
  config: TopicConfig | null;
}

export interface PartitionOffset {
  partition: number;
  /** null: no record at or after the timestamp asked for. */
  offset: number | null;
}

export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

export interface MemberInfo {
  memberId: string;
  instanceId: string | null;
  clientId: string;
  host: string;
  memberEpoch: number;
  topics: string[];
  assignment: TopicPartitions[];
  revoking: TopicPartitions[];
}

export interface PartitionLag {
  topic: string;
  partition: number;
  committedOffset: number | null;
  highWatermark: number;
  lag: number | null;
}

export interface GroupInfo {
  group: string;
  state: string;
  epoch: number;
  assignor: string;
  members: MemberInfo[];
  partitions: PartitionLag[];
  totalLag: number;
}

export interface GroupSummary {
  group: string;
  state: string;
  members: number;
  totalLag: number;
}

export interface CommittedOffset {
  topic: string;
  partition: number;
  offset: number;
  metadata: string;
}

export interface OffsetChange {
  topic: string;
  partition: number;
  previous: number | null;
  offset: number;
}

export interface Quotas {
  produceBytesPerSec: number;
  fetchBytesPerSec: number;
  requestsPerSec: number;
  storageBytes: number;
  topics: number;
  partitions: number;
  groups: number;
  recordBytesMax: number;
  requestBytesMax: number;
  liveTails: number;
}

export interface Usage {
  produceBytesPerSec: number;
  fetchBytesPerSec: number;
  requestsPerSec: number;
  storageBytes: number;
  topics: number;
  partitions: number;
  groups: number;
  throttleTimeMsTotal: number;
  throttledRequestsTotal: number;
}

export interface TenantInfo {
  name: string;
  quotas: Quotas | null;
  keys: number;
  usage: Usage | null;
}

export interface KeyInfo {
  id: string;
  name: string;
  scopes: string[];
  createdAtMs: number;
  expiresAtMs: number | null;
  revokedAtMs: number | null;
  createdBy: string;
}

export interface CreatedKey {
  info: KeyInfo | null;
  /** The secret, in this answer only. */
  key: string;
}

export declare class Admin {
  constructor(options?: ClientOptions);
  connect(): Promise<void>;
  createTopic(name: string, options?: { partitions?: number; config?: TopicConfig }): Promise<TopicInfo>;
  listTopics(): Promise<TopicInfo[]>;
  describeTopic(name: string): Promise<TopicInfo>;
  alterTopic(name: string, options: { partitions?: number; config?: TopicConfig }): Promise<TopicInfo>;
  deleteTopic(name: string): Promise<void>;
  listOffsets(
    topic: string,
    options?: { spec?: 'earliest' | 'latest' | 'timestamp'; timestamp?: number; partitions?: number[] },
  ): Promise<PartitionOffset[]>;
  partitionCount(topic: string): Promise<number>;
  listGroups(): Promise<GroupSummary[]>;
  describeGroup(group: string): Promise<GroupInfo>;
  committedOffsets(group: string, topics?: string[]): Promise<CommittedOffset[]>;
  deleteGroup(group: string): Promise<void>;
  resetOffsets(
    group: string,
    options: {
      to: 'earliest' | 'latest' | 'timestamp' | 'offset' | 'shift';
      value?: number;
      topics?: string[];
      dryRun?: boolean;
    },
  ): Promise<OffsetChange[]>;
  createTenant(name: string): Promise<TenantInfo>;
  listTenants(): Promise<TenantInfo[]>;
  deleteTenant(name: string): Promise<void>;
  createKey(name: string, options?: { scopes?: string[]; expiresAtMs?: number }): Promise<CreatedKey>;
  listKeys(): Promise<KeyInfo[]>;
  revokeKey(id: string): Promise<void>;
  quotas(tenant?: string): Promise<Quotas>;
  setQuotas(tenant: string, change: Partial<Quotas>): Promise<Quotas>;
  usage(tenant?: string): Promise<Usage>;
  close(): Promise<void>;
}

/** Which kind of failure a WeirError is. */
export type ErrorKind =
  | 'server'
  | 'grpc'
  | 'transport'
  | 'timeout'
  | 'closed'
  | 'invalid_argument'
  | 'buffer_full'
  | 'corrupt'
  | 'aborted'
  | 'internal';

/** Every failure of the SDK. */
export declare class WeirError extends Error {
  constructor(
    message: string,
    detail?: { code?: string | null; kind?: ErrorKind; retryable?: boolean; retryAfterMs?: number | null; cause?: unknown },
  );
  name: 'WeirError';
  /** The server's error code (e.g. "TOPIC_NOT_FOUND"); null for client-side failures. */
  code: string | null;
  kind: ErrorKind;
  /** Whether the same call may succeed later unchanged. */
  retryable: boolean;
  /** How long the server asked to wait before a retry. */
  retryAfterMs: number | null;
}

/** The partition a producer picks for a key among `partitions` partitions (Kafka's murmur2). */
export declare function partitionForKey(key: Bytes, partitions: number): number;

/** Every error code the server may send, with whether a retry may succeed. */
export declare function errorCodes(): Array<{ code: string; retryable: boolean }>;

/** The SDK version. */
export declare const version: string;
