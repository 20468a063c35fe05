//! The idempotent producer's identity: a producer id and epoch from the server
//! (Produce.InitProducer) and, per partition, the next sequence number to give a batch.
//!
//! Owns sequence numbering (Kafka's: a batch takes the next sequence and advances it by its
//! record count, wrapping to 0 after `i32::MAX`). Must not decide when to renew an identity or
//! retry a batch: the worker does; a retried batch is resent byte for byte with its sequence.

use weir_proto::v1::InitProducerRequest;

use crate::Error;
use crate::connection::Connection;

/// Most batches per partition in flight with idempotence: the server remembers the last five
/// batches of each producer, so a resend of any batch still unanswered is recognized.
pub const IDEMPOTENT_IN_FLIGHT_MAX: usize = 5;

/// A producer id and epoch with one partition's next sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Identity {
    pub(crate) producer_id: i64,
    pub(crate) epoch: i16,
    next_sequence: i32,
}

impl Identity {
    /// The identity of a producer with no batch sent yet.
    pub(crate) fn new(producer_id: i64, epoch: i16) -> Self {
        Identity {
            producer_id,
            epoch,
            next_sequence: 0,
        }
    }

    /// Asks the server for a new producer id.
    pub(crate) async fn init(conn: &Connection) -> Result<Identity, Error> {
        let request = InitProducerRequest {
            tenant: conn.tenant().to_owned(),
        };
        let mut client = conn.produce();
        let response = conn
            .call("init producer", client.init_producer(request))
            .await?;
        let epoch = i16::try_from(response.producer_epoch).map_err(|_| {
            Error::Corrupt(format!(
                "producer epoch {} is out of range",
                response.producer_epoch
            ))
        })?;
        Ok(Identity::new(response.producer_id, epoch))
    }

    /// The base sequence of a batch of `records` records; advances past them.
    pub(crate) fn take(&mut self, records: usize) -> i32 {
        let base = self.next_sequence;
        let span = i64::try_from(records).unwrap_or(i64::MAX);
        let next = (i64::from(base) + span) % (i64::from(i32::MAX) + 1);
        self.next_sequence = next as i32;
        base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_advance_by_record_count_and_wrap() {
        let mut id = Identity::new(4, 0);
        assert_eq!(id.take(3), 0);
        assert_eq!(id.take(2), 3);
        id.next_sequence = i32::MAX - 1;
        assert_eq!(id.take(3), i32::MAX - 1);
        assert_eq!(id.take(1), 1);
    }
}
