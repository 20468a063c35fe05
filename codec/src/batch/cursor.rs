//! A bounds-checked reader over a (decompressed) records section.
//!
//! Owns: reading bytes, varints and length-prefixed fields without ever indexing past the end.
//! Fields come out as `Bytes` views of the section, so a key or value is never copied. Must not
//! know the record layout; `decode` does.

use bytes::Bytes;

use super::RecordError;
use super::varint::{read_varint, read_varlong};

/// Reads forward through `data[pos..end]`. Invariant: `pos <= end <= data.len()`.
#[derive(Debug)]
pub(crate) struct Cursor<'a> {
    data: &'a Bytes,
    pos: usize,
    end: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor over all of `data`.
    pub(crate) fn new(data: &'a Bytes) -> Self {
        Cursor {
            data,
            pos: 0,
            end: data.len(),
        }
    }

    /// Bytes not read yet.
    pub(crate) fn remaining(&self) -> usize {
        self.end.saturating_sub(self.pos)
    }

    /// Reads one signed byte.
    pub(crate) fn i8(&mut self) -> Result<i8, RecordError> {
        let byte = *self.rest().first().ok_or(RecordError::Truncated {
            needed: 1,
            available: 0,
        })?;
        self.pos += 1;
        Ok(byte as i8)
    }

    /// Reads a zigzag varint.
    pub(crate) fn varint(&mut self) -> Result<i32, RecordError> {
        let (value, len) = read_varint(self.rest())?;
        self.pos += len;
        Ok(value)
    }

    /// Reads a zigzag varlong.
    pub(crate) fn varlong(&mut self) -> Result<i64, RecordError> {
        let (value, len) = read_varlong(self.rest())?;
        self.pos += len;
        Ok(value)
    }

    /// Reads a varint that must be a length or count: zero or more.
    pub(crate) fn length(&mut self) -> Result<usize, RecordError> {
        let value = self.varint()?;
        usize::try_from(value).map_err(|_| RecordError::InvalidLength(value))
    }

    /// Reads a varint length then that many bytes; length -1 means null.
    pub(crate) fn nullable_bytes(&mut self) -> Result<Option<Bytes>, RecordError> {
        match self.varint()? {
            -1 => Ok(None),
            len => {
                let len = usize::try_from(len).map_err(|_| RecordError::InvalidLength(len))?;
                self.bytes(len).map(Some)
            }
        }
    }

    /// Takes the next `len` bytes as a view of the section.
    pub(crate) fn bytes(&mut self, len: usize) -> Result<Bytes, RecordError> {
        let start = self.pos;
        let end = self.advance(len)?;
        Ok(self.data.slice(start..end))
    }

    /// Takes the next `len` bytes as a cursor of their own, for a length-prefixed structure.
    pub(crate) fn split(&mut self, len: usize) -> Result<Cursor<'a>, RecordError> {
        let start = self.pos;
        let end = self.advance(len)?;
        Ok(Cursor {
            data: self.data,
            pos: start,
            end,
        })
    }

    fn advance(&mut self, len: usize) -> Result<usize, RecordError> {
        let available = self.remaining();
        if len > available {
            return Err(RecordError::Truncated {
                needed: len,
                available,
            });
        }
        self.pos += len;
        Ok(self.pos)
    }

    fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..self.end).unwrap_or_default()
    }
}
