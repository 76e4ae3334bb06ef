//! Counting what each facility holds (uploads in progress, open connections) against the
//! configured [`crate::config::Limits`], so a slow or hostile facility delays only itself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::config;

/// The hub's live counts. Shared by every connection; slots are given back when dropped.
#[derive(Debug)]
pub struct Limits {
    config: config::Limits,
    uploads: Mutex<Counts>,
    connections: Mutex<Counts>,
    handshakes: Mutex<Counts>,
}

/// Which limit refused a slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Full {
    /// The facility's own limit.
    Facility,
    /// The limit of all facilities together.
    Total,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per: HashMap<String, usize>,
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Upload,
    Connection,
    Handshake,
}

/// A slot held: an upload in progress, an open connection or a handshake. Given back on drop.
#[derive(Debug)]
pub struct Slot {
    limits: Arc<Limits>,
    kind: Kind,
    facility: String,
}

impl Limits {
    /// Counts against `config`.
    pub fn new(config: config::Limits) -> Arc<Limits> {
        Arc::new(Limits { config, uploads: Mutex::default(), connections: Mutex::default(), handshakes: Mutex::default() })
    }

    /// The configured limits.
    pub fn config(&self) -> &config::Limits {
        &self.config
    }

    /// A slot to upload one batch body for `facility`.
    pub fn upload(self: &Arc<Self>, facility: &str) -> Result<Slot, Full> {
        self.take(Kind::Upload, facility, self.config.max_uploads_per_facility, self.config.max_uploads)
    }

    /// A slot for one open connection of `facility` (after the TLS handshake).
    pub fn connection(self: &Arc<Self>, facility: &str) -> Result<Slot, Full> {
        self.take(Kind::Connection, facility, self.config.max_connections_per_facility, self.config.max_connections)
    }

    /// A slot for one TLS handshake in progress (the client is not known yet).
    pub fn handshake(self: &Arc<Self>) -> Result<Slot, Full> {
        self.take(Kind::Handshake, "", usize::MAX, self.config.max_handshakes)
    }

    fn counts(&self, kind: Kind) -> std::sync::MutexGuard<'_, Counts> {
        let counts = match kind {
            Kind::Upload => &self.uploads,
            Kind::Connection => &self.connections,
            Kind::Handshake => &self.handshakes,
        };
        counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn take(self: &Arc<Self>, kind: Kind, facility: &str, per_max: usize, total_max: usize) -> Result<Slot, Full> {
        let mut counts = self.counts(kind);
        let mine = counts.per.get(facility).copied().unwrap_or(0);
        if mine >= per_max {
            return Err(Full::Facility);
        }
        if counts.total >= total_max {
            return Err(Full::Total);
        }
        counts.total += 1;
        *counts.per.entry(facility.to_owned()).or_default() += 1;
        Ok(Slot { limits: self.clone(), kind, facility: facility.to_owned() })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.limits.counts(self.kind);
        counts.total -= 1;
        if let Some(n) = counts.per.get_mut(&self.facility) {
            *n -= 1;
            if *n == 0 {
                counts.per.remove(&self.facility);
            }
        }
    }
}

/// What a protobuf `SubmitBatch` holds, read from its wire format without decoding it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchShape {
    /// `records` fields (field 1).
    pub records: usize,
    /// The lengths of every record's `envelope` fields (field 2 of `SubmittedRecord`), summed.
    pub envelope_bytes: usize,
}

/// Walks a protobuf `SubmitBatch` (proto/medseal/v1/submission.proto) tag by tag, allocating
/// nothing, so that a body of a million empty records is refused before a million records are
/// built. `None` when the bytes are not well-formed protobuf, or hold a group (wire types 3
/// and 4: not in this schema, and skipped by decoders, so they would hide records from a walk
/// that gave up there).
pub fn scan_batch(bytes: &[u8]) -> Option<BatchShape> {
    let mut shape = BatchShape::default();
    let mut rest = bytes;
    while !rest.is_empty() {
        let (field, value) = next_field(&mut rest)?;
        if let (1, Value::Bytes(record)) = (field, value) {
            shape.records += 1;
            let mut inner = record;
            while !inner.is_empty() {
                if let (2, Value::Bytes(envelope)) = next_field(&mut inner)? {
                    shape.envelope_bytes = shape.envelope_bytes.saturating_add(envelope.len());
                }
            }
        }
    }
    Some(shape)
}

enum Value<'a> {
    Scalar,
    Bytes(&'a [u8]),
}

/// The next field of a message: its number and value; `rest` moves past it.
fn next_field<'a>(rest: &mut &'a [u8]) -> Option<(u64, Value<'a>)> {
    let key = varint(rest)?;
    let value = match key & 7 {
        0 => varint(rest).map(|_| Value::Scalar)?,
        1 => skip(rest, 8).map(|_| Value::Scalar)?,
        2 => {
            let len = usize::try_from(varint(rest)?).ok()?;
            Value::Bytes(skip(rest, len)?)
        }
        5 => skip(rest, 4).map(|_| Value::Scalar)?,
        // Groups (3, 4) are not in this schema; 6 and 7 do not exist.
        _ => return None,
    };
    Some((key >> 3, value))
}

fn skip<'a>(rest: &mut &'a [u8], len: usize) -> Option<&'a [u8]> {
    if rest.len() < len {
        return None;
    }
    let (head, tail) = rest.split_at(len);
    *rest = tail;
    Some(head)
}

fn varint(rest: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for i in 0..10 {
        let (&byte, tail) = rest.split_first()?;
        *rest = tail;
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}
