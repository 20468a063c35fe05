//! weir: the Rust client of Weir, a Kafka-like streaming service, over gRPC (`weir.v1`).
//!
//! Owns client behaviour that every Weir SDK shares (Python and Node wrap this crate): key
//! partitioning (Kafka's murmur2, sticky partitions for null keys), batching, compression of
//! whole RecordBatch v2 batches, retries, consumer-group membership and offset commits. Must
//! not re-implement the wire contract: batches, codecs, the partitioner and `ErrorCode` come
//! from `weir-proto`, exactly as the server uses them.
//!
//! - [`Admin`]: topics, offsets, consumer groups; tenants, API keys, quotas and usage
//!   ([`tenancy`]) where the credential allows.
//! - [`Producer`]: `send` returns a [`Delivery`] future per record; `flush`, `close`.
//! - [`Consumer`]: `subscribe` as a group member or `assign` partitions; `poll` or `stream`;
//!   auto or manual commits; `seek`, `seek_to_timestamp`, `pause`/`resume`; `close`.
//! - [`Error`]: one error type carrying the server's [`ErrorCode`] when it sent one.
//!
//! What the language bindings (sdk-python, sdk-node) share, so they behave alike by
//! construction: [`options`] (settings as a host gives them: names, defaults, checks and
//! messages) and, in [`consumer`], [`RebalanceEvents`] (rebalance events queued for the thread
//! that polls), [`consumer::PollSlices`] and [`consumer::max_records`] (a poll cut into short
//! slices), [`consumer::PollBuffer`] (the chunk an iterator polled ahead).
//!
//! Producing is idempotent by default: the producer takes a producer id from the server and
//! numbers its batches, so a retried batch is stored once and in order (see [`producer`]).
//! Credentials (an API key or a JWT) go in `token`, sent as `authorization: Bearer`. A tenant
//! over a rate quota is slowed down by the server holding its answers; a refusal
//! (`QUOTA_EXCEEDED`, with a retry delay) is retried within the delivery timeout. Not
//! implemented: transactions; talking to several brokers (every request goes to the one URL
//! given).
//!
//! ```no_run
//! use std::time::Duration;
//! use weir::{Consumer, Producer, ProducerRecord};
//!
//! # async fn run() -> Result<(), weir::Error> {
//! let token = std::env::var("WEIR_TOKEN").unwrap_or_default(); // an API key or a JWT
//! let producer = Producer::builder()
//!     .url("http://127.0.0.1:8781")
//!     .token(token.clone())
//!     .build()
//!     .await?;
//! let delivery = producer.send(ProducerRecord::new("orders", "hello").key("k1")).await?;
//! let stored = delivery.await?;
//! println!("stored at {}/{}", stored.partition, stored.offset);
//!
//! let mut consumer = Consumer::builder()
//!     .token(token)
//!     .group("billing")
//!     .subscribe(["orders"])
//!     .build()
//!     .await?;
//! for record in consumer.poll(Duration::from_secs(1)).await? {
//!     println!("{} {:?}", record.offset, record.value);
//! }
//! consumer.close().await?;
//! # Ok(())
//! # }
//! ```

pub mod admin;
mod connection;
pub mod consumer;
mod error;
mod fetch_call;
mod grpc_call;
pub mod options;
mod produce_call;
pub mod producer;
pub mod tenancy;

pub use admin::Admin;
pub use connection::{
    AuthChannel, Bearer, CONNECT_TIMEOUT, ClientConfig, Connection, MESSAGE_BYTES_MAX,
    REQUEST_TIMEOUT_DEFAULT, TENANT_DEFAULT, URL_DEFAULT,
};
pub use consumer::{
    Assignor, AutoOffsetReset, CommitMode, Consumer, ConsumerBuilder, ConsumerConfig,
    ConsumerRecord, RebalanceEvent, RebalanceEvents, RebalanceListener, TopicPartition,
};
pub use error::{ERROR_CODE_METADATA_KEY, Error};
pub use fetch_call::FetchResponses;
pub use grpc_call::Responses;
pub use producer::{
    Acks, BatchDelivery, BatchMetadata, Delivery, Partitioner, Producer, ProducerBuilder,
    ProducerConfig, ProducerRecord, RecordMetadata, WhenFull,
};
pub use weir_proto::ErrorCode;
pub use weir_proto::batch::{Compression, Header};
pub use weir_proto::partitioner::{ZeroPartitions, partition_for_key};
