//! REST produce and fetch: `POST .../topics/{topic}/records` and
//! `GET .../topics/{topic}/partitions/{p}/records`.
//!
//! Owns the JSON shape of records in both directions. Values round-trip: a JSON `value` is
//! stored as its JSON text and comes back as the same JSON; bytes (`value_b64`) that are JSON
//! or UTF-8 come back as such, anything else as `value_b64`; `value_format` says which.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use weir_broker::{Acks, Fetched, NewRecord};
use weir_proto::ErrorCode;
use weir_proto::batch::{DecodeLimits, DecodedRecord, Header, batches, decode};

use super::extract::Caller;
use super::extract::{ApiPath, ApiQuery, LaterJson};
use super::topics::TopicPath;
use crate::access::{admit_produce, amount, authorize, hold};
use crate::dto::FETCH_BYTES_DEFAULT;
use crate::dto::ints;
use crate::{ApiError, ApiState, Problem};
use weir_broker::{Action, Rate};

/// Records returned by a fetch when `max_records` is not given.
pub const FETCH_RECORDS_DEFAULT: usize = 100;

/// A record to produce. Give `key` or `key_b64`, and `value` or `value_b64`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProduceRecordDto {
    /// Key as UTF-8 text; records with the same key go to the same partition. Not with
    /// `key_b64`.
    pub key: Option<String>,
    /// Key as base64 bytes (RFC 4648 with padding). Not with `key`.
    #[schema(
        pattern = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$"
    )]
    pub key_b64: Option<String>,
    /// Value as any JSON (object, array, string, number, boolean); stored as its JSON text.
    /// `null` or absent (with no `value_b64`) is a tombstone. Not with `value_b64`.
    #[schema(value_type = Value, required = false)]
    pub value: Option<serde_json::Value>,
    /// Value as base64 bytes (RFC 4648 with padding), stored as they are. Not with `value`.
    #[schema(
        pattern = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$"
    )]
    pub value_b64: Option<String>,
    /// Headers: name → UTF-8 value; at most the server's `record_headers_max` (64 unless
    /// configured otherwise).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Explicit partition; otherwise murmur2(key) % partitions, or spread evenly without a key.
    /// A partition the topic does not have is `PARTITION_NOT_FOUND` (404).
    #[serde(default, deserialize_with = "ints::optional")]
    #[schema(value_type = Option<u32>)]
    pub partition: Option<i64>,
    /// Milliseconds since the Unix epoch; the server's clock when absent.
    #[serde(default, deserialize_with = "ints::optional")]
    pub timestamp: Option<i64>,
}

/// Body of a produce request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProduceRequest {
    /// Records, written in order per partition: at least one, at most the server's
    /// `produce_records_max` (10000 unless configured otherwise).
    #[schema(min_items = 1, max_items = 10000)]
    pub records: Vec<ProduceRecordDto>,
}

/// Where a record landed, or why it did not.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ProduceResult {
    /// Stored.
    Ok {
        /// Partition chosen.
        partition: u32,
        /// Offset assigned.
        offset: i64,
        /// Timestamp stored.
        timestamp: i64,
    },
    /// Not stored.
    Err {
        /// What went wrong.
        error: RecordError,
    },
}

/// A per-record error.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RecordError {
    /// Stable error code.
    pub code: String,
    /// What went wrong.
    pub message: String,
}

/// Response of a produce request: one result per record, in request order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProduceResponse {
    /// One per record, in request order.
    pub results: Vec<ProduceResult>,
    /// How long the server held this response for the tenant's produce quota, in ms.
    pub throttle_time_ms: u64,
}

/// How a record's value is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ValueFormat {
    /// `value` holds the JSON the bytes spell.
    Json,
    /// `value` holds the bytes as a UTF-8 string (they are not JSON).
    String,
    /// `value_b64` holds the bytes (neither JSON nor UTF-8).
    Binary,
    /// A tombstone: no value.
    Null,
}

/// A record as read.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RecordDto {
    /// Partition (set where a response mixes partitions).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub partition: Option<u32>,
    /// Offset in the partition.
    pub offset: i64,
    /// Milliseconds since the Unix epoch.
    pub timestamp: i64,
    /// Key as UTF-8 text; null when absent or binary.
    pub key: Option<String>,
    /// Key as base64 when it is not UTF-8.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub key_b64: Option<String>,
    /// The value as any JSON (format `json`: object, array, string, number, boolean) or as
    /// text (format `string`); null otherwise.
    #[schema(value_type = Value)]
    pub value: Option<serde_json::Value>,
    /// The value as base64 (format `binary`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub value_b64: Option<String>,
    /// How the value is shown.
    pub value_format: ValueFormat,
    /// Headers with UTF-8 values.
    pub headers: BTreeMap<String, String>,
    /// Headers whose values are not UTF-8, base64.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub headers_b64: BTreeMap<String, String>,
}

/// Query of a fetch. Give `offset` or `timestamp` (default: the log start).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FetchQuery {
    /// First offset to return. Outside the partition's range is `OFFSET_OUT_OF_RANGE` (416).
    #[serde(default, deserialize_with = "ints::query")]
    pub offset: Option<i64>,
    /// Start at the first record with a timestamp at or after this (ms since the epoch).
    #[serde(default, deserialize_with = "ints::query")]
    pub timestamp: Option<i64>,
    /// Most records to return (default 100, at most the server's `fetch_records_max`, 10000
    /// unless configured otherwise).
    #[serde(default, deserialize_with = "ints::query")]
    #[param(value_type = Option<u64>, minimum = 1, maximum = 10000)]
    pub max_records: Option<usize>,
    /// Most bytes of batches to read (default 1 MiB, at most the server's `fetch_bytes_max`).
    /// At least one batch is read when there is one, whatever its size.
    #[serde(default, deserialize_with = "ints::query")]
    #[param(value_type = Option<u64>)]
    pub max_bytes: Option<usize>,
    /// Wait up to this long for records when none is there yet (long poll). The wait is cut
    /// to the server's `fetch_wait_ms_max` (30000 unless configured otherwise): a larger value
    /// is accepted and waits that long.
    #[serde(default, deserialize_with = "ints::query")]
    pub wait_ms: Option<u64>,
}

/// Path of a partition.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct PartitionPath {
    /// Tenant name.
    pub tenant: String,
    /// Topic name.
    pub topic: String,
    /// Partition number. One the topic does not have is `PARTITION_NOT_FOUND` (404).
    #[param(value_type = u32)]
    pub partition: i64,
}

/// Records read from a partition.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FetchResponse {
    /// Records in offset order.
    pub records: Vec<RecordDto>,
    /// Offset to ask for next.
    pub next_offset: i64,
    /// Offset after the last readable record.
    pub high_watermark: i64,
    /// First offset still stored.
    pub log_start_offset: i64,
    /// How long the server held this response for the tenant's fetch quota, in ms.
    pub throttle_time_ms: u64,
}

fn b64(field: &str, text: &str) -> Result<Bytes, ApiError> {
    B64.decode(text)
        .map(Bytes::from)
        .map_err(|e| ApiError::invalid(format!("{field} is not valid base64: {e}")))
}

/// Turns a JSON record into a broker record, checking every field.
pub(crate) fn to_new_record(i: usize, r: ProduceRecordDto) -> Result<NewRecord, ApiError> {
    let key = match (r.key, r.key_b64) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(format!(
                "records[{i}]: give key or key_b64, not both"
            )));
        }
        (Some(k), None) => Some(Bytes::from(k)),
        (None, Some(k)) => Some(b64(&format!("records[{i}].key_b64"), &k)?),
        (None, None) => None,
    };
    let value = match (r.value, r.value_b64) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(format!(
                "records[{i}]: give value or value_b64, not both"
            )));
        }
        (Some(serde_json::Value::Null), None) | (None, None) => None,
        (Some(v), None) => Some(Bytes::from(serde_json::to_vec(&v).unwrap_or_default())),
        (None, Some(v)) => Some(b64(&format!("records[{i}].value_b64"), &v)?),
    };
    let headers = r
        .headers
        .into_iter()
        .map(|(key, value)| Header {
            key,
            value: Some(Bytes::from(value)),
        })
        .collect();
    Ok(NewRecord {
        key,
        value,
        headers,
        partition: r.partition,
        timestamp: r.timestamp,
    })
}

/// Produce records.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/topics/{topic}/records", tag = "records",
    params(TopicPath), request_body = ProduceRequest,
    responses(
        (status = 200, description = "One result per record, in request order", body = ProduceResponse),
        (status = 400, description = "`INVALID_REQUEST` (malformed records: no records, key and key_b64 or value and value_b64 both given, bad base64, too many records; a bad tenant name) or `INVALID_RECORD` (a record with more headers than `record_headers_max`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`TENANT_NOT_FOUND`, `TOPIC_NOT_FOUND`, or `PARTITION_NOT_FOUND` for an explicit partition", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`RECORD_TOO_LARGE` (a record past `record_bytes_max`) or `REQUEST_TOO_LARGE` (the body or its records past the tenant's `request_bytes_max`)", body = Problem, content_type = "application/problem+json"),
        (status = 507, description = "`STORAGE_QUOTA_EXCEEDED`: the tenant's `storage_bytes` quota is used up", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn produce(
    State(state): State<Arc<ApiState>>,
    Caller(caller): Caller,
    ApiPath(path): ApiPath<TopicPath>,
    body: LaterJson<ProduceRequest>,
) -> Result<axum::Json<ProduceResponse>, ApiError> {
    let tenant = authorize(
        &state,
        &caller,
        &path.tenant,
        Action::WriteTopic(&path.topic),
    )?;
    let body = body.parse()?;
    if body.records.is_empty() {
        return Err(ApiError::invalid("records must not be empty"));
    }
    // A missing topic fails the request before its records are looked at.
    let topic = state.broker.topic(&tenant, &path.topic)?;
    let limits = state.broker.limits_for(&tenant);
    let mut records = Vec::with_capacity(body.records.len());
    let mut bytes = 0;
    // Everything is checked before anything is written: a bad record fails the whole request.
    for (i, dto) in body.records.into_iter().enumerate() {
        let record = to_new_record(i, dto)?;
        bytes += record.payload_bytes();
        weir_broker::check_record(&record, &limits).map_err(|e| {
            let e = ApiError::from(e);
            ApiError::new(e.code, format!("records[{i}]: {}", e.message))
        })?;
        if let Some(p) = record.partition {
            // It exists (here, or on the node that leads it).
            topic.slot(p)?;
        }
        records.push(record);
    }
    admit_produce(&state, &tenant, bytes, state.limits.request_bytes_max)?;
    // REST has no acks setting: records are answered once every in-sync replica holds them.
    let produced = crate::blocking(|| {
        let broker = &state.broker;
        broker.produce_records_acked(&tenant, &path.topic, records, Acks::All)
    })?;
    let results = produced.acknowledged().await?;
    let results = results
        .into_iter()
        .map(|r| match r {
            Ok(pos) => ProduceResult::Ok {
                partition: pos.partition,
                offset: pos.offset,
                timestamp: pos.timestamp,
            },
            Err(e) => ProduceResult::Err {
                error: RecordError {
                    code: e.code().as_str().to_owned(),
                    message: e.to_string(),
                },
            },
        })
        .collect();
    let throttle_time_ms = hold(&state, &tenant, Rate::Produce, amount(bytes)).await;
    Ok(axum::Json(ProduceResponse {
        results,
        throttle_time_ms,
    }))
}

/// Read records from a partition, from an offset or a timestamp; long-polls with `wait_ms`.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/topics/{topic}/partitions/{partition}/records",
    tag = "records", params(PartitionPath, FetchQuery),
    responses(
        (status = 200, description = "Records", body = FetchResponse),
        (status = 400, description = "`INVALID_REQUEST`: a bad query (offset and timestamp both given, max_records out of range, unknown or malformed parameters) or a bad tenant name", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`TENANT_NOT_FOUND`, `TOPIC_NOT_FOUND` or `PARTITION_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 416, description = "`OFFSET_OUT_OF_RANGE`: `offset` is before the log start or past the high watermark", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn fetch(
    State(state): State<Arc<ApiState>>,
    Caller(caller): Caller,
    ApiPath(path): ApiPath<PartitionPath>,
    ApiQuery(q): ApiQuery<FetchQuery>,
) -> Result<axum::Json<FetchResponse>, ApiError> {
    let tenant = authorize(
        &state,
        &caller,
        &path.tenant,
        Action::ReadTopic(&path.topic),
    )?;
    let max_records = q.max_records.unwrap_or(FETCH_RECORDS_DEFAULT);
    let records_max = state.limits.fetch_records_max;
    if max_records == 0 || max_records > records_max {
        return Err(ApiError::invalid(format!(
            "max_records must be between 1 and fetch_records_max {records_max}"
        )));
    }
    let start = match (q.offset, q.timestamp) {
        (Some(_), Some(_)) => return Err(ApiError::invalid("give offset or timestamp, not both")),
        (Some(offset), None) => offset,
        (None, timestamp) => {
            // Here, or asked of the node that leads the partition.
            let topic = state.broker.topic(&tenant, &path.topic)?;
            let (offsets, at) =
                state
                    .broker
                    .partition_offsets(&topic, path.partition, timestamp)?;
            match timestamp {
                Some(_) => at.unwrap_or(offsets.high_watermark),
                None => offsets.log_start_offset,
            }
        }
    };
    let wait = Duration::from_millis(q.wait_ms.unwrap_or(0));
    let max_bytes = q.max_bytes.unwrap_or(FETCH_BYTES_DEFAULT);
    state.broker.check_rate(&tenant, Rate::Fetch)?;
    let fetched = state
        .broker
        .fetch(&tenant, &path.topic, path.partition, start, max_bytes, wait)
        .await?
        .read()?;
    let (records, next_offset) = records_from(&fetched, start, max_records, None)?;
    let throttle_time_ms = hold(&state, &tenant, Rate::Fetch, amount(fetched.batches.len())).await;
    Ok(axum::Json(FetchResponse {
        records,
        next_offset,
        high_watermark: fetched.offsets.high_watermark,
        log_start_offset: fetched.offsets.log_start_offset,
        throttle_time_ms,
    }))
}

/// Decodes fetched batches into at most `max_records` records at or after `start`. Returns
/// them and the offset to continue from.
pub(crate) fn records_from(
    fetched: &Fetched,
    start: i64,
    max_records: usize,
    partition: Option<u32>,
) -> Result<(Vec<RecordDto>, i64), ApiError> {
    let mut out = Vec::new();
    for batch in batches(&fetched.batches) {
        let (_, bytes) = batch.map_err(stored_batch_error)?;
        let (_, records) = decode(bytes, &DecodeLimits::default()).map_err(stored_batch_error)?;
        for r in records.into_iter().filter(|r| r.offset >= start) {
            if out.len() == max_records {
                let next = r.offset;
                return Ok((out, next));
            }
            out.push(record_dto(r, partition));
        }
    }
    Ok((out, fetched.next_offset.max(start)))
}

fn stored_batch_error(e: weir_proto::batch::BatchError) -> ApiError {
    tracing::error!(error = %e, "a stored batch does not decode");
    ApiError::new(ErrorCode::Internal, "a stored batch does not decode")
}

/// `bytes` as text, when they are UTF-8 without control characters other than tab, newline
/// and carriage return; anything else is shown as base64 (`binary`), so bytes such as 00 01 02
/// never reach a reader as an invisible string.
fn shown_as_text(bytes: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(bytes).ok()?;
    let plain = text
        .chars()
        .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'));
    plain.then_some(text)
}

/// The JSON form of a record, as REST reads and `weir consume` show it.
pub fn record_dto(r: DecodedRecord, partition: Option<u32>) -> RecordDto {
    let (key, key_b64) = match r.key {
        None => (None, None),
        Some(k) => match shown_as_text(&k) {
            Some(s) => (Some(s.to_owned()), None),
            None => (None, Some(B64.encode(&k))),
        },
    };
    let (value, value_b64, value_format) = match r.value {
        None => (None, None, ValueFormat::Null),
        Some(v) => match serde_json::from_slice::<serde_json::Value>(&v) {
            Ok(json) => (Some(json), None, ValueFormat::Json),
            Err(_) => match shown_as_text(&v) {
                Some(s) => (
                    Some(serde_json::Value::String(s.to_owned())),
                    None,
                    ValueFormat::String,
                ),
                None => (None, Some(B64.encode(&v)), ValueFormat::Binary),
            },
        },
    };
    let mut headers = BTreeMap::new();
    let mut headers_b64 = BTreeMap::new();
    for h in r.headers {
        let v = h.value.unwrap_or_default();
        match shown_as_text(&v) {
            Some(s) => headers.insert(h.key, s.to_owned()),
            None => headers_b64.insert(h.key, B64.encode(&v)),
        };
    }
    RecordDto {
        partition,
        offset: r.offset,
        timestamp: r.timestamp,
        key,
        key_b64,
        value,
        value_b64,
        value_format,
        headers,
        headers_b64,
    }
}
