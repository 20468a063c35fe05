//! The data path between nodes: a produce or fetch for a partition another node leads is
//! forwarded to that node over the internal listener (`weir.internal.v1.Partitions`).
//!
//! Owns both ends: `PartitionService` (the callee: checks the cluster secret, serves the
//! partition from its own log with `produce_batch_here` / `fetch_here`, never forwards again)
//! and `Forwarder` (the broker's `Remote`: one lazily connected channel per node, at the
//! internal address the quorum's membership names). Must not authenticate tenants: the
//! forwarding node did, and the secret proves the caller is a node.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::runtime::Handle;
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Response, Status};
use weir_broker::groups::{GroupAnswer, GroupCall, GroupFetched, GroupRecord};
use weir_broker::{
    Acks, AppendInfo, Broker, BrokerError, Fetched, PartitionOffsets, Remote, RemoteFetch,
    RemoteGroup, TenantId,
};
use weir_codec::ErrorCode;
use weir_codec::batch::{DecodedRecord, Header};

use crate::proto::pb;
use crate::raft::{Quorum, SECRET_HEADER};
use crate::{MetadataMachine, raft};

pub use pb::partitions_server::PartitionsServer;

/// Largest forwarded message: a fetch answer of `fetch_bytes_max` (64 MiB by default) and
/// its fields.
pub const PARTITION_MESSAGE_BYTES_MAX: usize = 80 << 20;
/// HTTP/2 window per forwarded call: above the largest batch or fetch answer, so neither
/// waits for window updates (the protocol's 64 KiB default made a forwarded fetch run at a
/// twentieth of a direct one).
pub const STREAM_WINDOW_BYTES: u32 = 16 << 20;
/// HTTP/2 window per connection to a node (several forwarded calls at once).
pub const CONNECTION_WINDOW_BYTES: u32 = 64 << 20;
/// Most partitions one `OffsetsMany` call asks for; a caller with more splits them.
pub const OFFSETS_MANY_MAX: usize = 100_000;
/// Longest a forwarded produce may take (the leader's append and its acks).
pub const FORWARD_PRODUCE_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest a forwarded fetch may take beyond the wait it asked for.
pub const FORWARD_FETCH_SLACK: Duration = Duration::from_secs(30);

fn acks_wire(acks: Acks) -> i32 {
    match acks {
        Acks::None => 0,
        Acks::Leader => 1,
        Acks::All => -1,
    }
}

fn acks_of(wire: i32) -> Result<Acks, Status> {
    match wire {
        0 => Ok(Acks::None),
        1 => Ok(Acks::Leader),
        -1 => Ok(Acks::All),
        other => Err(Status::invalid_argument(format!("acks {other}"))),
    }
}

fn refusal(e: &BrokerError) -> pb::Refusal {
    pb::Refusal {
        code: e.code().as_str().to_owned(),
        message: e.to_string(),
    }
}

fn refused(r: pb::Refusal) -> BrokerError {
    BrokerError::Forwarded {
        code: ErrorCode::parse(&r.code).unwrap_or(ErrorCode::Internal),
        message: r.message,
    }
}

/// The callee: serves forwarded requests from this node's own partitions.
#[derive(Debug)]
pub struct PartitionService {
    broker: Arc<Broker>,
    secret: String,
}

impl PartitionService {
    /// Serves `broker`'s partitions to nodes presenting `secret`.
    pub fn new(broker: Arc<Broker>, secret: String) -> PartitionsServer<PartitionService> {
        PartitionsServer::new(PartitionService { broker, secret })
            .max_decoding_message_size(PARTITION_MESSAGE_BYTES_MAX)
            .max_encoding_message_size(PARTITION_MESSAGE_BYTES_MAX)
    }

    fn admit<T>(&self, request: Request<T>) -> Result<T, Status> {
        let given = request
            .metadata()
            .get(SECRET_HEADER)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        if !raft::same_secret(given, self.secret.as_bytes()) {
            return Err(Status::unauthenticated("wrong or missing cluster secret"));
        }
        Ok(request.into_inner())
    }
}

#[tonic::async_trait]
impl pb::partitions_server::Partitions for PartitionService {
    async fn produce(
        &self,
        request: Request<pb::ForwardedProduce>,
    ) -> Result<Response<pb::ForwardedProduced>, Status> {
        let r = self.admit(request)?;
        let acks = acks_of(r.acks)?;
        let tenant =
            TenantId::parse(&r.tenant).map_err(|e| Status::invalid_argument(e.to_string()))?;
        let broker = self.broker.clone();
        let (topic, partition, batch) = (r.topic, r.partition, r.batch);
        let appended = tokio::task::spawn_blocking(move || {
            broker.produce_batch_here(&tenant, &topic, partition, &batch, acks)
        })
        .await
        .map_err(|e| Status::internal(e.to_string()))?;
        let answer = match appended {
            Ok(produced) => produced.acknowledged().await,
            Err(e) => Err(e),
        };
        Ok(Response::new(match answer {
            Ok(info) => pb::ForwardedProduced {
                base_offset: info.base_offset,
                last_offset: info.last_offset,
                max_timestamp: info.max_timestamp,
                refused: None,
            },
            Err(e) => pb::ForwardedProduced {
                refused: Some(refusal(&e)),
                ..pb::ForwardedProduced::default()
            },
        }))
    }

    async fn offsets(
        &self,
        request: Request<pb::ForwardedFetch>,
    ) -> Result<Response<pb::ForwardedFetched>, Status> {
        let r = self.admit(request)?;
        let tenant =
            TenantId::parse(&r.tenant).map_err(|e| Status::invalid_argument(e.to_string()))?;
        let offsets = self
            .broker
            .partition(&tenant, &r.topic, r.partition)
            .and_then(|p| {
                let at = match r.timestamp {
                    Some(t) => p.offset_for_timestamp(t)?,
                    None => None,
                };
                Ok((p.offsets(), at))
            });
        Ok(Response::new(match offsets {
            Ok((o, at)) => pb::ForwardedFetched {
                next_offset: at.unwrap_or(-1),
                ..offsets_wire(&o)
            },
            Err(e) => pb::ForwardedFetched {
                refused: Some(refusal(&e)),
                ..pb::ForwardedFetched::default()
            },
        }))
    }

    async fn offsets_many(
        &self,
        request: Request<pb::ForwardedOffsetsMany>,
    ) -> Result<Response<pb::ForwardedOffsetsManyAnswer>, Status> {
        let r = self.admit(request)?;
        let tenant =
            TenantId::parse(&r.tenant).map_err(|e| Status::invalid_argument(e.to_string()))?;
        if r.partitions.len() > OFFSETS_MANY_MAX {
            return Err(Status::invalid_argument(format!(
                "{} partitions asked, at most {OFFSETS_MANY_MAX}",
                r.partitions.len()
            )));
        }
        let offsets = r
            .partitions
            .iter()
            .map(
                |p| match self.broker.partition(&tenant, &p.topic, p.partition) {
                    Ok(part) => offsets_wire(&part.offsets()),
                    Err(e) => pb::ForwardedFetched {
                        refused: Some(refusal(&e)),
                        ..pb::ForwardedFetched::default()
                    },
                },
            )
            .collect();
        Ok(Response::new(pb::ForwardedOffsetsManyAnswer { offsets }))
    }

    async fn group(
        &self,
        request: Request<pb::ForwardedGroupCall>,
    ) -> Result<Response<pb::ForwardedGroupAnswer>, Status> {
        let r = self.admit(request)?;
        let tenant =
            TenantId::parse(&r.tenant).map_err(|e| Status::invalid_argument(e.to_string()))?;
        let call: GroupCall = serde_json::from_slice(&r.call)
            .map_err(|e| Status::invalid_argument(format!("group call: {e}")))?;
        // Run as the client APIs run group calls: on a runtime worker, where the blocking
        // parts (a fsynced commit, asking another node for a partition's offsets) use
        // `block_in_place`.
        let answered = self.broker.serve_group_call(&tenant, call).await;
        let wire =
            answered
                .and_then(group_answer_wire)
                .unwrap_or_else(|e| pb::ForwardedGroupAnswer {
                    refused: Some(refusal(&e)),
                    ..pb::ForwardedGroupAnswer::default()
                });
        Ok(Response::new(wire))
    }

    async fn fetch(
        &self,
        request: Request<pb::ForwardedFetch>,
    ) -> Result<Response<pb::ForwardedFetched>, Status> {
        let r = self.admit(request)?;
        let tenant =
            TenantId::parse(&r.tenant).map_err(|e| Status::invalid_argument(e.to_string()))?;
        let max_bytes = usize::try_from(r.max_bytes).unwrap_or(usize::MAX);
        let wait = Duration::from_millis(r.wait_ms);
        let fetched = self
            .broker
            .fetch_here(&tenant, &r.topic, r.partition, r.offset, max_bytes, wait)
            .await;
        Ok(Response::new(match fetched {
            Ok(f) => pb::ForwardedFetched {
                batches: f.batches.into(),
                next_offset: f.next_offset,
                log_start_offset: f.offsets.log_start_offset,
                high_watermark: f.offsets.high_watermark,
                size_bytes: f.offsets.size_bytes,
                refused: None,
            },
            Err(e) => pb::ForwardedFetched {
                refused: Some(refusal(&e)),
                ..pb::ForwardedFetched::default()
            },
        }))
    }
}

/// A partition's offsets as an `Offsets` answer carries them.
fn offsets_wire(o: &PartitionOffsets) -> pb::ForwardedFetched {
    pb::ForwardedFetched {
        next_offset: -1,
        log_start_offset: o.log_start_offset,
        high_watermark: o.high_watermark,
        size_bytes: o.size_bytes,
        ..pb::ForwardedFetched::default()
    }
}

fn offsets_of(answer: &pb::ForwardedFetched) -> PartitionOffsets {
    PartitionOffsets {
        log_start_offset: answer.log_start_offset,
        high_watermark: answer.high_watermark,
        size_bytes: answer.size_bytes,
    }
}

/// A group answer as it travels: JSON, and a group fetch's records beside it.
fn group_answer_wire(answer: GroupAnswer) -> Result<pb::ForwardedGroupAnswer, BrokerError> {
    let records = match &answer {
        GroupAnswer::Fetched(f) => f.records.iter().map(record_wire).collect(),
        _ => Vec::new(),
    };
    let json = serde_json::to_vec(&answer)
        .map_err(|e| BrokerError::Internal(format!("encode a group answer: {e}")))?;
    Ok(pb::ForwardedGroupAnswer {
        answer: json,
        records,
        refused: None,
    })
}

fn group_answer_of(wire: pb::ForwardedGroupAnswer) -> Result<GroupAnswer, BrokerError> {
    if let Some(r) = wire.refused {
        return Err(refused(r));
    }
    let answer: GroupAnswer = serde_json::from_slice(&wire.answer)
        .map_err(|e| BrokerError::Internal(format!("decode a group answer: {e}")))?;
    Ok(match answer {
        GroupAnswer::Fetched(GroupFetched { view, .. }) => GroupAnswer::Fetched(GroupFetched {
            view,
            records: wire.records.into_iter().map(record_of).collect(),
        }),
        other => other,
    })
}

fn record_wire(r: &GroupRecord) -> pb::GroupRecord {
    pb::GroupRecord {
        topic: r.topic.clone(),
        partition: r.partition,
        offset: r.record.offset,
        timestamp: r.record.timestamp,
        key: r.record.key.clone(),
        value: r.record.value.clone(),
        headers: r
            .record
            .headers
            .iter()
            .map(|h| pb::RecordHeader {
                key: h.key.clone(),
                value: h.value.clone(),
            })
            .collect(),
    }
}

fn record_of(r: pb::GroupRecord) -> GroupRecord {
    GroupRecord {
        topic: r.topic,
        partition: r.partition,
        record: DecodedRecord {
            offset: r.offset,
            timestamp: r.timestamp,
            key: r.key,
            value: r.value,
            headers: r
                .headers
                .into_iter()
                .map(|h| Header {
                    key: h.key,
                    value: h.value,
                })
                .collect(),
        },
    }
}

/// The caller: the broker's `Remote`, reaching each node at the internal address the
/// quorum's membership names.
#[derive(Debug)]
pub struct Forwarder {
    quorum: Arc<Quorum<MetadataMachine>>,
    secret: String,
    /// One channel per node and address (lazily connected, reconnecting by itself).
    channels: Mutex<HashMap<(u32, String), Channel>>,
    runtime: Handle,
}

impl Forwarder {
    /// Forwards over `quorum`'s membership, presenting `secret`. Must be made inside the
    /// runtime the calls run on.
    pub fn new(quorum: Arc<Quorum<MetadataMachine>>, secret: String) -> Forwarder {
        Forwarder {
            quorum,
            secret,
            channels: Mutex::default(),
            runtime: Handle::current(),
        }
    }

    fn client(
        &self,
        node: u32,
    ) -> Result<pb::partitions_client::PartitionsClient<Channel>, BrokerError> {
        let unreachable = |message: String| BrokerError::Forwarded {
            code: ErrorCode::Unavailable,
            message,
        };
        let addr = self
            .quorum
            .members()
            .remove(&u64::from(node))
            .filter(|a| !a.is_empty())
            .ok_or_else(|| unreachable(format!("node {node} has no internal address")))?;
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        let channel = match channels.get(&(node, addr.clone())) {
            Some(c) => c.clone(),
            None => {
                let c = Endpoint::from_shared(format!("http://{addr}"))
                    .map_err(|e| unreachable(format!("node {node} address {addr:?}: {e}")))?
                    .connect_timeout(raft::CONNECT_TIMEOUT)
                    .tcp_nodelay(true)
                    .initial_stream_window_size(STREAM_WINDOW_BYTES)
                    .initial_connection_window_size(CONNECTION_WINDOW_BYTES)
                    .connect_lazy();
                channels.insert((node, addr), c.clone());
                c
            }
        };
        Ok(pb::partitions_client::PartitionsClient::new(channel)
            .max_decoding_message_size(PARTITION_MESSAGE_BYTES_MAX)
            .max_encoding_message_size(PARTITION_MESSAGE_BYTES_MAX))
    }

    /// Runs a call to another node to its end from the broker's blocking side.
    fn block<F: Future>(&self, call: F) -> F::Output {
        tokio::task::block_in_place(|| self.runtime.block_on(call))
    }

    fn signed<T>(&self, message: T, within: Duration) -> Result<Request<T>, BrokerError> {
        let mut request = Request::new(message);
        let secret = self
            .secret
            .parse()
            .map_err(|e| BrokerError::Internal(format!("cluster secret: {e}")))?;
        request.metadata_mut().insert(SECRET_HEADER, secret);
        request.set_timeout(within);
        Ok(request)
    }
}

/// A failed call to another node (`role`: what it is to this request, e.g. "leads the
/// partition"): the partition or group is as good as offline from here.
fn call_failed(node: u32, role: &str, s: &Status) -> BrokerError {
    BrokerError::Forwarded {
        code: ErrorCode::Unavailable,
        message: format!("node {node}, which {role}, did not answer: {}", s.message()),
    }
}

const LEADS: &str = "leads the partition";

impl Remote for Forwarder {
    fn produce(
        &self,
        leader: u32,
        tenant: &TenantId,
        topic: &str,
        partition: i64,
        batch: Bytes,
        acks: Acks,
    ) -> Result<AppendInfo, BrokerError> {
        let message = pb::ForwardedProduce {
            tenant: tenant.to_string(),
            topic: topic.to_owned(),
            partition,
            batch,
            acks: acks_wire(acks),
        };
        let request = self.signed(message, FORWARD_PRODUCE_TIMEOUT)?;
        let mut client = self.client(leader)?;
        let answer = self
            .block(client.produce(request))
            .map_err(|s| call_failed(leader, LEADS, &s))?
            .into_inner();
        match answer.refused {
            Some(r) => Err(refused(r)),
            None => Ok(AppendInfo {
                base_offset: answer.base_offset,
                last_offset: answer.last_offset,
                max_timestamp: answer.max_timestamp,
            }),
        }
    }

    fn offsets(
        &self,
        leader: u32,
        tenant: &TenantId,
        topic: &str,
        partition: i64,
        timestamp: Option<i64>,
    ) -> Result<(PartitionOffsets, Option<i64>), BrokerError> {
        let message = pb::ForwardedFetch {
            tenant: tenant.to_string(),
            topic: topic.to_owned(),
            partition,
            timestamp,
            ..pb::ForwardedFetch::default()
        };
        let request = self.signed(message, FORWARD_PRODUCE_TIMEOUT)?;
        let mut client = self.client(leader)?;
        let answer = self
            .block(client.offsets(request))
            .map_err(|s| call_failed(leader, LEADS, &s))?
            .into_inner();
        match answer.refused {
            Some(r) => Err(refused(r)),
            None => Ok((
                offsets_of(&answer),
                (answer.next_offset >= 0).then_some(answer.next_offset),
            )),
        }
    }

    fn offsets_many(
        &self,
        leader: u32,
        tenant: &TenantId,
        partitions: Vec<(String, i64)>,
    ) -> Result<Vec<Result<PartitionOffsets, BrokerError>>, BrokerError> {
        let mut out = Vec::with_capacity(partitions.len());
        for chunk in partitions.chunks(OFFSETS_MANY_MAX) {
            let message = pb::ForwardedOffsetsMany {
                tenant: tenant.to_string(),
                partitions: chunk
                    .iter()
                    .map(|(topic, partition)| pb::PartitionRef {
                        topic: topic.clone(),
                        partition: *partition,
                    })
                    .collect(),
            };
            let request = self.signed(message, FORWARD_PRODUCE_TIMEOUT)?;
            let mut client = self.client(leader)?;
            let answer = self
                .block(client.offsets_many(request))
                .map_err(|s| call_failed(leader, LEADS, &s))?
                .into_inner();
            if answer.offsets.len() != chunk.len() {
                return Err(BrokerError::Internal(format!(
                    "node {leader} answered {} offsets for {} partitions",
                    answer.offsets.len(),
                    chunk.len()
                )));
            }
            out.extend(answer.offsets.into_iter().map(|a| match a.refused {
                Some(r) => Err(refused(r)),
                None => Ok(offsets_of(&a)),
            }));
        }
        Ok(out)
    }

    fn fetch(
        &self,
        leader: u32,
        tenant: TenantId,
        topic: String,
        partition: i64,
        offset: i64,
        max_bytes: usize,
        wait: Duration,
    ) -> RemoteFetch {
        let message = pb::ForwardedFetch {
            tenant: tenant.to_string(),
            topic,
            partition,
            offset,
            max_bytes: u64::try_from(max_bytes).unwrap_or(u64::MAX),
            wait_ms: u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            timestamp: None,
        };
        let ready = self
            .signed(message, wait + FORWARD_FETCH_SLACK)
            .and_then(|request| Ok((request, self.client(leader)?)));
        Box::pin(async move {
            let (request, mut client) = ready?;
            let answer = client
                .fetch(request)
                .await
                .map_err(|s| call_failed(leader, LEADS, &s))?
                .into_inner();
            if let Some(r) = answer.refused {
                return Err(refused(r));
            }
            Ok(Fetched {
                offsets: offsets_of(&answer),
                next_offset: answer.next_offset,
                batches: answer.batches.into(),
            })
        })
    }

    fn group(&self, coordinator: u32, tenant: TenantId, call: GroupCall) -> RemoteGroup {
        // A group fetch long-polls: allow its wait beside the usual slack.
        let within = match &call {
            GroupCall::Fetch { options, .. } => options.wait + FORWARD_FETCH_SLACK,
            _ => FORWARD_PRODUCE_TIMEOUT,
        };
        let ready = serde_json::to_vec(&call)
            .map_err(|e| BrokerError::Internal(format!("encode a group call: {e}")))
            .and_then(|json| {
                let message = pb::ForwardedGroupCall {
                    tenant: tenant.to_string(),
                    call: json,
                };
                Ok((self.signed(message, within)?, self.client(coordinator)?))
            });
        Box::pin(async move {
            let (request, mut client) = ready?;
            let answer = client
                .group(request)
                .await
                .map_err(|s| call_failed(coordinator, "coordinates the group", &s))?;
            group_answer_of(answer.into_inner())
        })
    }
}
