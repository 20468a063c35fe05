// DTOs of the public REST API, written by hand from openapi/openapi.json (the contract the
// server generates). Only what the console reads or sends.

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  retryable: boolean;
}

export interface TopicConfig {
  retention_ms?: number | null;
  retention_bytes?: number | null;
  segment_bytes?: number | null;
  segment_ms?: number | null;
  batch_bytes_max?: number | null;
  flush_records?: number | null;
  flush_ms?: number | null;
}

export interface TopicSummary {
  name: string;
  partitions: number;
  records: number;
  size_bytes: number;
  config: TopicConfig;
}

export interface PartitionInfo {
  partition: number;
  log_start_offset: number;
  high_watermark: number;
  size_bytes: number;
  leader: number;
}

export interface TopicDetail {
  name: string;
  partitions: PartitionInfo[];
  config: TopicConfig;
}

export type ValueFormat = "json" | "string" | "binary" | "null";

export interface RecordDto {
  offset: number;
  timestamp: number;
  partition?: number | null;
  key?: string | null;
  key_b64?: string | null;
  value?: unknown;
  value_b64?: string | null;
  value_format: ValueFormat;
  headers: Record<string, string>;
  headers_b64?: Record<string, string>;
}

/** A record as the console holds it: always with its partition. */
export interface Rec extends RecordDto {
  partition: number;
}

export interface FetchResponse {
  records: RecordDto[];
  next_offset: number;
  high_watermark: number;
  log_start_offset: number;
  throttle_time_ms: number;
}

export interface ProduceRecord {
  key?: string | null;
  key_b64?: string | null;
  value?: unknown;
  value_b64?: string | null;
  headers?: Record<string, string>;
  partition?: number | null;
  timestamp?: number | null;
}

export type ProduceResult =
  | { partition: number; offset: number; timestamp: number }
  | { error: { code: string; message: string } };

export interface ProduceResponse {
  results: ProduceResult[];
  throttle_time_ms: number;
}

export interface GroupSummary {
  group: string;
  state: string;
  members: number;
  total_lag: number;
}

export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

export interface Member {
  member_id: string;
  client_id: string;
  host: string;
  instance_id?: string | null;
  member_epoch: number;
  topics: string[];
  assignment: TopicPartitions[];
  revoking: TopicPartitions[];
}

export interface PartitionLag {
  topic: string;
  partition: number;
  committed_offset?: number | null;
  high_watermark: number;
  lag?: number | null;
}

export interface GroupDetail {
  group: string;
  state: string;
  epoch: number;
  assignor: string;
  members: Member[];
  partitions: PartitionLag[];
  total_lag: number;
}

export type ResetTo = "earliest" | "latest" | "timestamp" | "offset" | "shift";

export interface ResetRequest {
  to: ResetTo;
  dry_run: boolean;
  offset?: number;
  shift?: number;
  timestamp?: number;
  topics?: string[];
}

export interface OffsetChange {
  topic: string;
  partition: number;
  offset: number;
  previous?: number | null;
}

export interface ResetResponse {
  dry_run: boolean;
  offsets: OffsetChange[];
}

export interface Quotas {
  produce_bytes_per_sec: number;
  fetch_bytes_per_sec: number;
  requests_per_sec: number;
  storage_bytes: number;
  topics: number;
  partitions: number;
  groups: number;
  record_bytes_max: number;
  request_bytes_max: number;
  live_tails: number;
}

export interface Usage {
  produce_bytes_per_sec: number;
  fetch_bytes_per_sec: number;
  requests_per_sec: number;
  storage_bytes: number;
  topics: number;
  partitions: number;
  groups: number;
  throttle_time_ms_total: number;
  throttled_requests_total: number;
  quotas: Quotas;
}

export interface Tenant {
  name: string;
  keys: number;
  usage: Usage;
}

export interface ApiKey {
  id: string;
  name: string;
  scopes: string[];
  created_at: number;
  created_by: string;
  expires_at?: number | null;
  revoked_at?: number | null;
}

export interface CreatedKey extends ApiKey {
  key: string;
}

export interface ClusterNode {
  node_id: number;
  internal_addr: string;
  role: string;
  http_addr: string | null;
  grpc_addr: string | null;
  rack: string | null;
  liveness: string;
}

export interface ClusterView {
  mode: "single" | "raft";
  node_id: number;
  role: string;
  controller: number | null;
  term: number;
  last_log_index: number | null;
  applied_index: number | null;
  voters: number[];
  nodes: ClusterNode[];
}
