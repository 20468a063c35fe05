//! Live tail over Server-Sent Events: `GET .../topics/{topic}/records:stream`.
//!
//! Each record is one `record` event whose id lists every tailed partition's next offset
//! (`0:15,1:7`), so a reconnecting client resumes exactly where it stopped by sending that id
//! back as `Last-Event-ID`. Owns the per-stream task, which ends as soon as the client goes
//! away; open streams are bounded on the node and per tenant (`tail_slots.rs`).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::{Stream, StreamExt};
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use utoipa::{IntoParams, ToSchema};
use weir_broker::{BrokerError, Partition};

use super::extract::Caller;
use super::extract::{ApiPath, ApiQuery};
use super::records::records_from;
use super::topics::TopicPath;
use crate::access::{amount, authorize, hold};
use crate::{ApiError, ApiState};
use weir_broker::{Action, Principal, Rate, TenantId};

/// Bytes read from one partition per round of the tail loop.
const TAIL_READ_BYTES: usize = 256 * 1024;
/// Events buffered per stream before the reader is waited for.
const TAIL_BUFFER_EVENTS: usize = 64;
/// How long the tail waits for new records before looking again (a missed wake-up costs
/// no more than this).
const TAIL_IDLE_WAIT: Duration = Duration::from_secs(15);

/// Query of a live tail.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TailQuery {
    /// Partitions to tail, comma-separated (`partitions=0,2`; default: all). One the topic
    /// does not have is `PARTITION_NOT_FOUND` (404).
    #[param(value_type = Option<Vec<u32>>, style = Form, explode = false, min_items = 1)]
    pub partitions: Option<String>,
    /// Where to start without a `Last-Event-ID`: `latest` (default) or `earliest`.
    #[param(value_type = Option<TailFrom>, inline)]
    pub from: Option<String>,
}

/// Where a live tail starts without a `Last-Event-ID` (the type of `TailQuery::from`, for the
/// OpenAPI document).
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TailFrom {
    /// Each partition's log start.
    Earliest,
    /// Each partition's high watermark: only records produced from now on (the default).
    Latest,
}

/// How a generated client (or anyone) should read a live tail: the operation's description
/// in the OpenAPI document.
const TAIL_DESCRIPTION: &str = "The answer is a Server-Sent Events stream (`text/event-stream`) \
that does not end while the client stays: one `record` event per record, whose `data` is the \
record as JSON (a `RecordDto` with `partition` set) and whose `id` lists every tailed \
partition's next offset (`0:15,1:7`); comment lines keep an idle connection alive. \
Clients generated from this document cannot consume it: they wait for the body to end. Read \
it with an SSE client instead: `curl -N -H 'Authorization: Bearer <key>' <url>`, the \
browser's `EventSource` (which cannot send an `Authorization` header, so behind a proxy that \
adds it, or with a fetch-based SSE reader), or a Python SSE library such as `httpx-sse` or \
`sseclient-py` over a streaming HTTP request. To resume after a disconnect, send the last \
event's `id` back as `Last-Event-ID`.";

/// Tail a topic live (Server-Sent Events; resumable with `Last-Event-ID`).
#[utoipa::path(get, path = "/v1/tenants/{tenant}/topics/{topic}/records:stream", tag = "records",
    description = TAIL_DESCRIPTION,
    params(TopicPath, TailQuery,
        ("Last-Event-ID" = Option<String>, Header, description = "Resume after this event id: the `id` of the last event received, `partition:next offset` pairs separated by commas (`0:15,1:7`). Partitions not in it start as `from` says.",
            pattern = r"^,*(?:\+?[0-9]{1,9}:[+-]?[0-9]{1,18}(?:,+\+?[0-9]{1,9}:[+-]?[0-9]{1,18})*)?,*$")),
    responses(
        (status = 200, description = "A never-ending event stream of `record` events whose data is a record (with its partition); see the operation's description", content_type = "text/event-stream"),
        (status = 400, description = "`INVALID_REQUEST`: `partitions` not numbers, `from` not `earliest` or `latest`, a malformed `Last-Event-ID`, unknown parameters, or a bad tenant name", body = crate::Problem, content_type = "application/problem+json"),
        (status = 404, description = "`TENANT_NOT_FOUND`, `TOPIC_NOT_FOUND` or `PARTITION_NOT_FOUND`", body = crate::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`COUNT_QUOTA_EXCEEDED`: the tenant holds as many live tails as it may (`sse_streams_per_tenant_max`, or its `live_tails` quota)", body = crate::Problem, content_type = "application/problem+json"),
        (status = 503, description = "`UNAVAILABLE`: too many live tails open on the node (`sse_streams_max`)", body = crate::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn tail(
    State(state): State<Arc<ApiState>>,
    Caller(caller): Caller,
    ApiPath(path): ApiPath<TopicPath>,
    ApiQuery(q): ApiQuery<TailQuery>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let tenant = authorize(
        &state,
        &caller,
        &path.tenant,
        Action::ReadTopic(&path.topic),
    )?;
    // A missing topic is reported before malformed partition numbers.
    state.broker.topic(&tenant, &path.topic)?;
    let selected = match &q.partitions {
        None => state.broker.partitions(&tenant, &path.topic)?,
        Some(list) => list
            .split(',')
            .map(|p| {
                let p = p.trim().parse::<i64>().map_err(|_| {
                    ApiError::invalid(format!("partitions must be numbers, got {p:?}"))
                })?;
                Ok(state.broker.partition(&tenant, &path.topic, p)?)
            })
            .collect::<Result<Vec<_>, ApiError>>()?,
    };
    let resume = headers
        .get("last-event-id")
        .map(|v| {
            let id = v
                .to_str()
                .map_err(|_| bad_id(&String::from_utf8_lossy(v.as_bytes())))?;
            parse_event_id(id)
        })
        .transpose()?
        .unwrap_or_default();
    let earliest = match q.from.as_deref() {
        None | Some("latest") => false,
        Some("earliest") => true,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "from must be earliest or latest, got {other:?}"
            )));
        }
    };
    let tenant_max = state
        .broker
        .live_tails_max(&tenant, state.limits.sse_streams_per_tenant_max);
    let slot = state.tails.take(&tenant, tenant_max)?;
    let positions = selected
        .into_iter()
        .map(|p| {
            let o = p.offsets();
            let start = resume.get(&p.index()).copied().unwrap_or(if earliest {
                o.log_start_offset
            } else {
                o.high_watermark
            });
            (p, start)
        })
        .collect();
    let (tx, rx) = mpsc::channel(TAIL_BUFFER_EVENTS);
    let quota = (Arc::clone(&state), caller, tenant);
    tokio::spawn(run_tail(positions, tx, quota));
    // The response holds the slot: it comes back as soon as the client's connection drops it.
    let events = ReceiverStream::new(rx).map(move |event| {
        let _held = &slot;
        event
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

fn parse_event_id(id: &str) -> Result<BTreeMap<u32, i64>, ApiError> {
    id.split(',')
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (p, o) = pair.split_once(':').ok_or_else(|| bad_id(id))?;
            Ok((
                p.parse().map_err(|_| bad_id(id))?,
                o.parse().map_err(|_| bad_id(id))?,
            ))
        })
        .collect()
}

fn bad_id(id: &str) -> ApiError {
    ApiError::invalid(format!(
        "Last-Event-ID {id:?} is not a list of partition:offset"
    ))
}

fn event_id(positions: &[(Arc<Partition>, i64)]) -> String {
    positions
        .iter()
        .map(|(p, o)| format!("{}:{o}", p.index()))
        .collect::<Vec<_>>()
        .join(",")
}

/// Sends every new record of the tailed partitions until the client goes away, or its
/// credential no longer stands (checked at every wake, at least every `TAIL_IDLE_WAIT`).
async fn run_tail(
    mut positions: Vec<(Arc<Partition>, i64)>,
    tx: mpsc::Sender<Result<Event, Infallible>>,
    (state, caller, tenant): (Arc<ApiState>, Principal, TenantId),
) {
    let mut watchers: Vec<_> = positions.iter().map(|(p, _)| p.subscribe()).collect();
    loop {
        if state.auth.recheck(&state.broker, &caller).is_err() {
            return;
        }
        for w in &mut watchers {
            w.borrow_and_update();
        }
        let mut sent_any = false;
        for i in 0..positions.len() {
            let stands = || state.auth.recheck(&state.broker, &caller).is_ok();
            match send_new(&mut positions, i, &tx, &stands).await {
                Ok(0) => {}
                // Live tails count against the fetch quota like any read.
                Ok(bytes) => {
                    sent_any = true;
                    hold(&state, &tenant, Rate::Fetch, bytes).await;
                }
                Err(()) => return,
            }
        }
        if sent_any {
            continue;
        }
        let changed =
            futures_util::future::select_all(watchers.iter_mut().map(|w| Box::pin(w.changed())));
        tokio::select! {
            () = tx.closed() => return, // the client went away
            waited = tokio::time::timeout(TAIL_IDLE_WAIT, changed) => {
                if let Ok((Err(_), _, _)) = waited {
                    return; // the topic was deleted
                }
            }
        }
    }
}

/// Sends what partition `i` has past its position; returns the bytes read (0: nothing new).
/// `Err` when the client is gone or the caller's credential no longer `stands` (asked before
/// every event, since sending to a slow client can take long).
async fn send_new(
    positions: &mut [(Arc<Partition>, i64)],
    i: usize,
    tx: &mpsc::Sender<Result<Event, Infallible>>,
    stands: &(dyn Fn() -> bool + Sync),
) -> Result<u64, ()> {
    let (partition, offset) = (&positions[i].0, positions[i].1);
    let fetched = match partition.read(offset, TAIL_READ_BYTES) {
        Ok(f) => f,
        Err(BrokerError::OffsetOutOfRange { start, .. }) => {
            positions[i].1 = start; // retention passed us: continue at the log start
            return Ok(0);
        }
        Err(_) => return Err(()),
    };
    let index = partition.index();
    let Ok((records, next)) = records_from(&fetched, offset, usize::MAX, Some(index)) else {
        return Err(());
    };
    let sent = if records.is_empty() {
        0
    } else {
        amount(fetched.batches.len())
    };
    for record in records {
        if !stands() {
            return Err(());
        }
        positions[i].1 = record.offset + 1;
        let data = serde_json::to_string(&record).unwrap_or_default();
        let event = Event::default()
            .event("record")
            .id(event_id(positions))
            .data(data);
        tx.send(Ok(event)).await.map_err(|_| ())?;
    }
    positions[i].1 = next;
    Ok(sent)
}
