//! What both transports share about requests and answers, with no axum or tonic in it: the
//! DTOs and rules gRPC and REST both use (topic settings, quota changes, member labels,
//! committed offsets), the integer rules of JSON bodies (`ints`) and fetch defaults. REST
//! owns the DTOs only it shows; gRPC converts its messages to and from these.

pub mod groups;
pub mod ints;
pub mod tenants;
pub mod topics;

/// Bytes read per fetch when `max_bytes` is not given.
pub const FETCH_BYTES_DEFAULT: usize = 1 << 20;
