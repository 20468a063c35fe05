//! A run of concatenated batches, as a fetch returns them or a segment stores them.
//!
//! Owns: walking batch boundaries and validating each batch on the way. Must not decode
//! records or decompress: a run is checked and sliced, never copied.

use std::iter::FusedIterator;

use super::header::{peek_total_len, validate};
use super::{BatchError, BatchHeader};

/// Walks the batches in `bytes`, validating each (lengths, magic, codec, CRC).
///
/// Yields each header with its whole batch. After the first error (a torn tail, a corrupt
/// batch) it yields nothing more; `Batches::remaining` then starts at the bad batch, so a
/// caller can truncate there or, for a fetch response, ignore a partial last batch.
pub fn batches(bytes: &[u8]) -> Batches<'_> {
    Batches {
        rest: bytes,
        failed: false,
    }
}

/// Iterator returned by `batches`.
#[derive(Debug, Clone)]
pub struct Batches<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> Batches<'a> {
    /// Bytes not yet yielded: after an error, the batch that failed and everything after it.
    pub fn remaining(&self) -> &'a [u8] {
        self.rest
    }
}

impl<'a> Iterator for Batches<'a> {
    type Item = Result<(BatchHeader, &'a [u8]), BatchError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        match split_batch(self.rest) {
            Ok((header, batch, rest)) => {
                self.rest = rest;
                Some(Ok((header, batch)))
            }
            Err(error) => {
                self.failed = true;
                Some(Err(error))
            }
        }
    }
}

impl FusedIterator for Batches<'_> {}

fn split_batch(bytes: &[u8]) -> Result<(BatchHeader, &[u8], &[u8]), BatchError> {
    let total = peek_total_len(bytes)?;
    let (batch, rest) = bytes.split_at_checked(total).ok_or(BatchError::Truncated {
        needed: total,
        available: bytes.len(),
    })?;
    let header = validate(batch)?;
    Ok((header, batch, rest))
}
