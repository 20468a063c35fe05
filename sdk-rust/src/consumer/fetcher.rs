//! One assigned partition's fetcher: initialises its position (committed offset, else the
//! reset policy), then long-polls Fetch.Fetch from it and queues decoded records, pausing
//! while the consumer's prefetch is full or the partition is paused.
//!
//! Owns decoding fetched batches (skipping records before the asked offset, ignoring a torn
//! last batch) and the reset on OFFSET_OUT_OF_RANGE. Must not hand records to the application
//! or commit: poll does. It ends when its partition is no longer assigned (it is aborted).

use std::sync::Arc;
use std::time::Duration;

use weir_proto::ErrorCode;
use weir_proto::batch::{DecodeLimits, batches, decode};
use weir_proto::v1::{FetchCommittedRequest, FetchRequest, FetchResponse};

use super::state::Shared;
use super::{AutoOffsetReset, ConsumerRecord, TopicPartition};
use crate::Error;
use crate::admin::{Admin, OffsetSpec};

/// Wait after a failed fetch before the next try.
pub const FETCH_RETRY_BACKOFF: Duration = Duration::from_millis(200);
/// Longest a waiting fetcher sleeps before it looks at its state again, in case a wake-up
/// was missed.
const IDLE_RECHECK: Duration = Duration::from_millis(500);

/// Fetches `tp` until aborted.
pub(crate) async fn run(shared: Arc<Shared>, tp: TopicPartition) {
    loop {
        let Some((offset, generation)) = wait_for_turn(&shared, &tp).await else {
            return;
        };
        let result = match offset {
            None => init(&shared, &tp, generation).await,
            Some(offset) => fetch_once(&shared, &tp, offset, generation).await,
        };
        if let Err(e) = result {
            if !e.is_retryable() {
                shared.report(e);
            }
            tokio::time::sleep(FETCH_RETRY_BACKOFF).await;
        }
    }
}

/// Waits until the partition may fetch; `None` once it is no longer assigned.
async fn wait_for_turn(shared: &Shared, tp: &TopicPartition) -> Option<(Option<i64>, u64)> {
    loop {
        let notified = shared.room.notified();
        {
            let state = shared.lock();
            let part = state.parts.get(tp)?;
            let full = state.buffered_bytes >= shared.config.prefetch_bytes;
            if !part.paused && !full {
                return Some((part.fetch_offset, part.generation));
            }
        }
        let _ = tokio::time::timeout(IDLE_RECHECK, notified).await;
    }
}

/// Sets the start position: the group's committed offset, else the reset policy.
async fn init(shared: &Shared, tp: &TopicPartition, generation: u64) -> Result<(), Error> {
    let committed = match &shared.config.group {
        Some(group) => committed(shared, group, tp).await?,
        None => None,
    };
    let offset = match committed {
        Some(offset) => offset,
        None => reset_offset(shared, tp).await?,
    };
    let mut state = shared.lock();
    if let Some(part) = state.parts.get_mut(tp)
        && part.generation == generation
        && part.position.is_none()
    {
        part.position = Some(offset);
        part.fetch_offset = Some(offset);
        part.committed = committed;
    }
    Ok(())
}

/// The group's committed offset of `tp`, if any.
pub(crate) async fn committed(
    shared: &Shared,
    group: &str,
    tp: &TopicPartition,
) -> Result<Option<i64>, Error> {
    let request = FetchCommittedRequest {
        tenant: shared.conn.tenant().to_owned(),
        group: group.to_owned(),
        topics: vec![tp.topic.clone()],
    };
    let mut groups = shared.conn.groups();
    let response = shared
        .conn
        .call("fetch committed", groups.fetch_committed(request))
        .await;
    let offsets = match response {
        Ok(r) => r.offsets,
        Err(e) if e.code() == Some(ErrorCode::GroupNotFound) => Vec::new(),
        Err(e) => return Err(e),
    };
    Ok(offsets
        .into_iter()
        .find(|o| o.topic == tp.topic && u32::try_from(o.partition) == Ok(tp.partition))
        .map(|o| o.offset))
}

/// Where the reset policy starts `tp`.
async fn reset_offset(shared: &Shared, tp: &TopicPartition) -> Result<i64, Error> {
    let spec = match shared.config.auto_offset_reset {
        AutoOffsetReset::Earliest => OffsetSpec::Earliest,
        AutoOffsetReset::Latest => OffsetSpec::Latest,
    };
    offset_for(shared, tp, spec).await
}

/// The offset of `tp` for `spec`; the end of the partition when no record matches.
pub(crate) async fn offset_for(
    shared: &Shared,
    tp: &TopicPartition,
    spec: OffsetSpec,
) -> Result<i64, Error> {
    let admin = Admin::from_connection(shared.conn.clone());
    let partition = wire_partition(tp.partition);
    let found = admin.list_offsets(&tp.topic, &[partition], spec).await?;
    if let Some(offset) = found.first().and_then(|o| o.offset) {
        return Ok(offset);
    }
    let end = admin
        .list_offsets(&tp.topic, &[partition], OffsetSpec::Latest)
        .await?;
    end.first()
        .and_then(|o| o.offset)
        .ok_or_else(|| Error::Corrupt(format!("no offsets listed for {tp}")))
}

pub(crate) fn wire_partition(p: u32) -> i32 {
    i32::try_from(p).unwrap_or(i32::MAX)
}

async fn fetch_once(
    shared: &Shared,
    tp: &TopicPartition,
    offset: i64,
    generation: u64,
) -> Result<(), Error> {
    let config = &shared.config;
    let request = FetchRequest {
        tenant: shared.conn.tenant().to_owned(),
        topic: tp.topic.clone(),
        partition: wire_partition(tp.partition),
        offset,
        max_bytes: u32::try_from(config.fetch_bytes).unwrap_or(u32::MAX),
        wait_ms: u32::try_from(config.fetch_wait.as_millis()).unwrap_or(u32::MAX),
    };
    match shared.conn.fetch_once(&request).await {
        Ok(response) => queue(shared, tp, offset, generation, &response),
        Err(e) if e.code() == Some(ErrorCode::OffsetOutOfRange) => {
            let to = reset_offset(shared, tp).await?;
            tracing::info!(%tp, offset, to, "fetch offset out of range, resetting");
            let mut state = shared.lock();
            state.clear_queue(tp);
            if let Some(part) = state.parts.get_mut(tp)
                && part.generation == generation
            {
                part.position = Some(to);
                part.fetch_offset = Some(to);
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Decodes a response and queues its records at or after `offset`.
fn queue(
    shared: &Shared,
    tp: &TopicPartition,
    offset: i64,
    generation: u64,
    response: &FetchResponse,
) -> Result<(), Error> {
    let (records, next) = decode_response(tp, offset, response)?;
    let mut state = shared.lock();
    let Some(part) = state.parts.get_mut(tp) else {
        return Ok(());
    };
    if part.generation != generation || part.fetch_offset != Some(offset) {
        return Ok(());
    }
    let bytes: usize = records.iter().map(ConsumerRecord::size).sum();
    part.fetch_offset = Some(next.max(offset));
    part.queued_bytes += bytes;
    part.queue.extend(records);
    state.buffered_bytes += bytes;
    drop(state);
    if bytes > 0 {
        shared.data.notify_waiters();
    }
    Ok(())
}

/// Records at or after `offset`, and the offset to fetch next.
fn decode_response(
    tp: &TopicPartition,
    offset: i64,
    response: &FetchResponse,
) -> Result<(Vec<ConsumerRecord>, i64), Error> {
    let limits = DecodeLimits::default();
    let mut records = Vec::new();
    let mut next = offset;
    let mut run = batches(&response.batches);
    for item in run.by_ref() {
        let Ok((_, batch)) = item else {
            break;
        };
        let (header, decoded) =
            decode(batch, &limits).map_err(|e| Error::Corrupt(e.to_string()))?;
        next = next.max(header.base_offset + i64::from(header.last_offset_delta) + 1);
        records.extend(
            decoded
                .into_iter()
                .filter(|r| r.offset >= offset)
                .map(|r| ConsumerRecord::from_decoded(tp, r)),
        );
    }
    if run.remaining().is_empty() {
        next = next.max(response.next_offset);
    } else if next == offset {
        // Not even the first batch was whole: a fetch must return at least one.
        return Err(Error::Corrupt(format!(
            "torn batch in a fetch of {tp} at {offset}"
        )));
    }
    Ok((records, next))
}
