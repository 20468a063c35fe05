//! Handing a consumer's output over to code that runs elsewhere: rebalance events queued for
//! the thread that polls ([`RebalanceEvents`]), polls cut into short slices so that thread can
//! do other work between them ([`PollSlices`], [`max_records`]), and the chunk an iterator
//! polled ahead ([`PollBuffer`]). The Python and Node bindings use them, so both behave the
//! same; any program that runs its rebalance callbacks on its own thread can too.
//!
//! Owns the queue's order (oldest first), the slice and deadline arithmetic of a poll, the
//! `max_records` rule, and which records of a chunk go back. Must not poll, commit or track
//! positions: `Consumer` does, and these types only carry what it handed out.

use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::{ConsumerRecord, RebalanceListener, TopicPartition};
use crate::Error;
use crate::options::Number;

/// One change of a consumer's assignment, as its `RebalanceListener` saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RebalanceEvent {
    /// Partitions now assigned.
    Assigned(Vec<TopicPartition>),
    /// Partitions taken away (or lost).
    Revoked(Vec<TopicPartition>),
}

impl RebalanceEvent {
    /// Whether partitions were assigned (else revoked).
    pub fn is_assigned(&self) -> bool {
        matches!(self, RebalanceEvent::Assigned(_))
    }

    /// The partitions the event is about.
    pub fn partitions(&self) -> &[TopicPartition] {
        match self {
            RebalanceEvent::Assigned(list) | RebalanceEvent::Revoked(list) => list,
        }
    }

    /// The partitions, taken out of the event.
    pub fn into_partitions(self) -> Vec<TopicPartition> {
        match self {
            RebalanceEvent::Assigned(list) | RebalanceEvent::Revoked(list) => list,
        }
    }
}

/// A `RebalanceListener` that queues what it is told, for another thread to take and act on.
///
/// The consumer calls its listener on its background task, where a host language's code may
/// not run (Python's, JavaScript's) and a slow callback would hold up the group. Give the
/// consumer a clone of this queue (`ConsumerBuilder::listener(events.clone())`) and call
/// [`take`](RebalanceEvents::take) where callbacks may run (Kafka's Java client runs them
/// inside `poll`). Clones share one queue.
///
/// ```
/// use weir::consumer::{RebalanceEvent, RebalanceEvents};
/// use weir::{RebalanceListener, TopicPartition};
///
/// let events = RebalanceEvents::new();
/// let listener = events.clone(); // what ConsumerBuilder::listener takes
/// listener.assigned(&[TopicPartition::new("orders", 0)]);
/// listener.revoked(&[TopicPartition::new("orders", 0)]);
/// let taken = events.take();
/// assert_eq!(taken.len(), 2);
/// assert!(taken[0].is_assigned() && !taken[1].is_assigned());
/// assert!(events.is_empty());
/// ```
#[derive(Debug, Clone, Default)]
pub struct RebalanceEvents(Arc<Mutex<VecDeque<RebalanceEvent>>>);

impl RebalanceEvents {
    /// An empty queue.
    pub fn new() -> Self {
        RebalanceEvents::default()
    }

    fn queue(&self) -> MutexGuard<'_, VecDeque<RebalanceEvent>> {
        // A panic while the lock was held cannot leave the queue half changed.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds an event at the back.
    pub fn push(&self, event: RebalanceEvent) {
        self.queue().push_back(event);
    }

    /// Every queued event, oldest first; the queue is empty afterwards. Allocates nothing
    /// when there is none.
    pub fn take(&self) -> Vec<RebalanceEvent> {
        let mut queue = self.queue();
        if queue.is_empty() {
            return Vec::new();
        }
        queue.drain(..).collect()
    }

    /// Drops every queued event (for a host with no callbacks to run).
    pub fn clear(&self) {
        self.queue().clear();
    }

    /// Whether no event is queued.
    pub fn is_empty(&self) -> bool {
        self.queue().is_empty()
    }
}

impl RebalanceListener for RebalanceEvents {
    fn assigned(&self, partitions: &[TopicPartition]) {
        self.push(RebalanceEvent::Assigned(partitions.to_vec()));
    }

    fn revoked(&self, partitions: &[TopicPartition]) {
        self.push(RebalanceEvent::Revoked(partitions.to_vec()));
    }
}

/// One poll's wait cut into slices of at most `slice`, up to a deadline (or none): a caller
/// that must not hold the consumer (or its thread) for long polls once per slice, and between
/// slices runs callbacks, checks for signals or lets other calls take the consumer.
///
/// ```
/// use std::ops::ControlFlow;
/// use std::time::Duration;
/// use weir::consumer::PollSlices;
///
/// let slices = PollSlices::new(Some(Duration::from_secs(5)), Duration::from_millis(100));
/// assert!(slices.next_slice() <= Duration::from_millis(100));
/// // Records end the poll; an empty slice before the deadline does not.
/// assert!(matches!(slices.settle(Vec::new()), ControlFlow::Continue(())));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct PollSlices {
    deadline: Option<Instant>,
    slice: Duration,
}

impl PollSlices {
    /// Slices of at most `slice` until `timeout` from now has passed (`None`: no deadline; a
    /// timeout too far away for the clock counts as none).
    pub fn new(timeout: Option<Duration>, slice: Duration) -> Self {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        PollSlices { deadline, slice }
    }

    /// How long the next slice may wait: `slice`, or less when the deadline is nearer (zero
    /// once it passed: a last poll that takes only what is ready).
    pub fn next_slice(&self) -> Duration {
        match self.deadline {
            Some(d) => d.saturating_duration_since(Instant::now()).min(self.slice),
            None => self.slice,
        }
    }

    /// Whether the deadline has passed (never without one).
    pub fn expired(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// What a slice's records mean for the poll: `Break` with what it returns (the records,
    /// or none once the deadline passed), `Continue` to poll the next slice.
    pub fn settle(&self, records: Vec<ConsumerRecord>) -> ControlFlow<Vec<ConsumerRecord>> {
        if !records.is_empty() || self.expired() {
            ControlFlow::Break(records)
        } else {
            ControlFlow::Continue(())
        }
    }
}

/// The `max_records` of one poll: `max_poll_records` when none is given, else a whole number
/// of at least 1 (`Consumer::poll_up_to` then bounds it by `max_poll_records`). `name` is the
/// argument's name as the host spells it.
pub fn max_records(
    given: Option<Number>,
    max_poll_records: usize,
    name: &str,
) -> Result<usize, Error> {
    let Some(n) = given else {
        return Ok(max_poll_records);
    };
    match n.count(name)? {
        0 => Err(Error::InvalidArgument(format!("{name} must be at least 1"))),
        n => Ok(n),
    }
}

/// The chunk an iterator polled ahead (`Consumer::poll_ahead`) and hands out one record at a
/// time, kept so the records it did not hand out can go back (`Consumer::put_back`) before
/// anything that must not count them: a commit, another poll, a seek, the end of iteration.
/// The iterator counts what it handed out (often in the host language, with no call per
/// record); [`rest`](PollBuffer::rest) takes the others.
///
/// ```
/// use weir::ConsumerRecord;
/// use weir::consumer::PollBuffer;
///
/// let record = |offset| ConsumerRecord {
///     topic: "t".into(), partition: 0, offset, timestamp: 0,
///     key: None, value: None, headers: Vec::new(),
/// };
/// let mut chunk = PollBuffer::default();
/// chunk.keep(vec![record(0), record(1), record(2)]);
/// // Two handed out: record 2 goes back (consumer.put_back(rest)).
/// let rest = chunk.rest(2);
/// assert_eq!(rest.iter().map(|r| r.offset).collect::<Vec<_>>(), [2]);
/// assert!(chunk.is_empty());
/// ```
#[derive(Debug, Default)]
pub struct PollBuffer {
    records: Vec<ConsumerRecord>,
}

impl PollBuffer {
    /// An empty buffer.
    pub fn new() -> Self {
        PollBuffer::default()
    }

    /// Keeps `records`, the chunk just polled, in place of the one before (which counts as
    /// handed out whole: take its `rest` first otherwise).
    pub fn keep(&mut self, records: Vec<ConsumerRecord>) {
        self.records = records;
    }

    /// The records kept.
    pub fn records(&self) -> &[ConsumerRecord] {
        &self.records
    }

    /// How many records are kept.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether no record is kept.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Empties the buffer and returns the records after the first `handed_out` (none when
    /// all were), in order, for `Consumer::put_back`.
    pub fn rest(&mut self, handed_out: usize) -> Vec<ConsumerRecord> {
        let mut records = std::mem::take(&mut self.records);
        if handed_out >= records.len() {
            return Vec::new();
        }
        records.split_off(handed_out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(partition: u32, offset: i64) -> ConsumerRecord {
        ConsumerRecord {
            topic: "t".into(),
            partition,
            offset,
            timestamp: 0,
            key: None,
            value: None,
            headers: Vec::new(),
        }
    }

    fn tps(ids: &[u32]) -> Vec<TopicPartition> {
        ids.iter().map(|&p| TopicPartition::new("t", p)).collect()
    }

    #[test]
    fn events_come_out_oldest_first_and_once() {
        let events = RebalanceEvents::new();
        let listener: Box<dyn RebalanceListener> = Box::new(events.clone());
        assert!(events.take().is_empty());
        listener.assigned(&tps(&[0, 1]));
        listener.revoked(&tps(&[1]));
        listener.assigned(&tps(&[2]));
        assert!(!events.is_empty());
        let taken = events.take();
        assert_eq!(
            taken,
            [
                RebalanceEvent::Assigned(tps(&[0, 1])),
                RebalanceEvent::Revoked(tps(&[1])),
                RebalanceEvent::Assigned(tps(&[2])),
            ]
        );
        assert_eq!(taken[1].partitions(), tps(&[1]).as_slice());
        assert!(!taken[1].is_assigned());
        assert_eq!(taken[2].clone().into_partitions(), tps(&[2]));
        assert!(events.is_empty() && events.take().is_empty());
        listener.revoked(&tps(&[0]));
        events.clear();
        assert!(events.take().is_empty());
    }

    #[test]
    fn events_pushed_from_another_thread_are_seen() {
        let events = RebalanceEvents::new();
        let listener = events.clone();
        std::thread::spawn(move || {
            for p in 0..100 {
                listener.assigned(&tps(&[p]));
            }
        })
        .join()
        .unwrap();
        let taken = events.take();
        assert_eq!(taken.len(), 100);
        assert_eq!(taken[99].partitions()[0].partition, 99);
    }

    #[test]
    fn slices_are_bounded_by_the_slice_and_the_deadline() {
        let slice = Duration::from_millis(100);
        let endless = PollSlices::new(None, slice);
        assert_eq!(endless.next_slice(), slice);
        assert!(!endless.expired());
        assert!(matches!(
            endless.settle(Vec::new()),
            ControlFlow::Continue(())
        ));

        let long = PollSlices::new(Some(Duration::from_secs(60)), slice);
        assert_eq!(long.next_slice(), slice);
        let short = PollSlices::new(Some(Duration::from_millis(30)), slice);
        assert!(short.next_slice() <= Duration::from_millis(30));

        let over = PollSlices::new(Some(Duration::ZERO), slice);
        assert!(over.expired());
        assert_eq!(over.next_slice(), Duration::ZERO);
        assert!(matches!(over.settle(Vec::new()), ControlFlow::Break(r) if r.is_empty()));

        // Too far for the clock: no deadline.
        let forever = PollSlices::new(Some(Duration::MAX), slice);
        assert!(!forever.expired());
        assert_eq!(forever.next_slice(), slice);
    }

    #[test]
    fn records_end_a_poll_before_its_deadline() {
        let slices = PollSlices::new(Some(Duration::from_secs(60)), Duration::from_millis(100));
        match slices.settle(vec![record(0, 5)]) {
            ControlFlow::Break(records) => assert_eq!(records[0].offset, 5),
            ControlFlow::Continue(()) => panic!("records must end the poll"),
        }
    }

    #[test]
    fn max_records_defaults_to_max_poll_records_and_refuses_zero() {
        assert_eq!(max_records(None, 500, "max_records").unwrap(), 500);
        assert_eq!(
            max_records(Some(Number::Int(1)), 500, "max_records").unwrap(),
            1
        );
        assert_eq!(
            max_records(Some(Number::Float(900.0)), 500, "maxRecords").unwrap(),
            900
        );
        let message = |e: Error| e.to_string();
        assert_eq!(
            message(max_records(Some(Number::Float(0.0)), 500, "maxRecords").unwrap_err()),
            "invalid argument: maxRecords must be at least 1"
        );
        assert_eq!(
            message(max_records(Some(Number::Int(-3)), 500, "max_records").unwrap_err()),
            "invalid argument: max_records must be a whole number >= 0, not -3"
        );
    }

    #[test]
    fn a_buffer_gives_back_what_was_not_handed_out() {
        let mut chunk = PollBuffer::new();
        assert!(chunk.rest(0).is_empty());
        chunk.keep(vec![record(0, 0), record(1, 7), record(0, 1), record(1, 8)]);
        assert_eq!(chunk.len(), 4);
        assert_eq!(chunk.records()[1].offset, 7);
        let rest = chunk.rest(1);
        let rest: Vec<_> = rest.iter().map(|r| (r.partition, r.offset)).collect();
        assert_eq!(rest, [(1, 7), (0, 1), (1, 8)]);
        assert!(chunk.is_empty());
        assert!(chunk.rest(0).is_empty(), "taken once");

        chunk.keep(vec![record(0, 2), record(0, 3)]);
        assert!(chunk.rest(2).is_empty(), "all handed out");
        chunk.keep(vec![record(0, 4)]);
        assert!(
            chunk.rest(usize::MAX).is_empty(),
            "a count past the end is all"
        );
        chunk.keep(vec![record(0, 5), record(0, 6)]);
        assert_eq!(chunk.rest(0).len(), 2, "none handed out: all go back");

        chunk.keep(vec![record(0, 9)]);
        chunk.keep(vec![record(0, 10)]);
        assert_eq!(
            chunk.rest(0)[0].offset,
            10,
            "keep replaces the chunk before"
        );
    }
}
