//! The sealed envelope (DESIGN 3.3): routing metadata in clear, bound through the HPKE info;
//! one or several recipients; protobuf and JSON encodings of the same fields.

use super::hpke::{self, Aead, KDF_HKDF_SHA256, KEM_X25519_HKDF_SHA256};
use super::recipient::RecipientKey;
use super::wire;
use crate::b64;
use crate::canon::{self, CanonOptions, Value};
use crate::error::{err, Result};

/// Prefix of the HPKE info: `info = "medseal/v1\n" || JCS(meta)`.
pub const INFO_PREFIX: &[u8] = b"medseal/v1\n";
/// Largest plaintext sealed and opened: 64 MiB ([`crate::limits::MAX_PLAINTEXT_BYTES`], at
/// least the largest JWS a signer writes).
pub const MAX_ENVELOPE_BYTES: usize = crate::limits::MAX_PLAINTEXT_BYTES;
/// Most recipients in one envelope.
pub const MAX_RECIPIENTS: usize = 16;
/// Largest integer a JCS number carries exactly, hence the largest sequence number.
const MAX_SEQUENCE: u64 = (1 << 53) - 1;
/// Multi-recipient bodies are sealed under a fresh random key, used once: a zero nonce is safe.
const BODY_NONCE: [u8; 12] = [0; 12];
/// Length of the random content key of multi-recipient envelopes.
const CONTENT_KEY_LEN: usize = 32;

/// Routing metadata: who sent what, in which order. In clear, but any change is detected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Meta {
    /// Unique id of the record; also its idempotency key at the hub.
    pub record_id: String,
    /// The sending facility.
    pub source: String,
    /// Per-source sequence number: 1, 2, 3, … (at most 2^53 − 1).
    pub sequence: u64,
    /// RFC 3339 UTC time the envelope was made.
    pub created: String,
    /// Media type of the plaintext, e.g. `application/jose+json` for a signed record.
    pub content_type: String,
}

impl Meta {
    /// Meta for `record_id` from `source` with `sequence`, created now, content type
    /// `application/jose+json` (a signed record).
    pub fn new(record_id: impl Into<String>, source: impl Into<String>, sequence: u64) -> Meta {
        Meta {
            record_id: record_id.into(),
            source: source.into(),
            sequence,
            created: crate::utc::now_text(),
            content_type: crate::record::FLATTENED_CONTENT_TYPE.to_owned(),
        }
    }

    /// Checks every field: non-empty text of at most 256 bytes, sequence 1..=2^53−1, `created`
    /// an RFC 3339 time in UTC (`Z`), as the wire format says.
    pub fn validate(&self) -> Result<()> {
        // The id rule of a signed record; the content type follows the same text rule.
        for (name, value) in [("meta.record_id", &self.record_id), ("meta.source", &self.source), ("meta.content_type", &self.content_type)]
        {
            crate::record::check_id(name, value, crate::ResultCode::MEDSEAL_SEAL_META_INVALID)?;
        }
        if !(1..=MAX_SEQUENCE).contains(&self.sequence) {
            return Err(err!(MEDSEAL_SEAL_META_INVALID, "meta.sequence must be between 1 and 2^53-1, not {}", self.sequence));
        }
        if crate::utc::parse(&self.created).is_none() {
            return Err(err!(MEDSEAL_SEAL_META_INVALID, "meta.created must be an RFC 3339 UTC time such as 2026-11-26T08:00:00Z"));
        }
        Ok(())
    }

    /// The meta as a JSON object (field names as in the .proto).
    pub fn to_value(&self) -> Value<'_> {
        Value::object([
            ("content_type", Value::string(self.content_type.as_str())),
            ("created", Value::string(self.created.as_str())),
            ("record_id", Value::string(self.record_id.as_str())),
            ("sequence", Value::Number(canon::Number::new(self.sequence as f64).expect("finite"))),
            ("source", Value::string(self.source.as_str())),
        ])
    }

    /// The HPKE info that binds this meta: `"medseal/v1\n" || JCS(meta)`.
    pub fn info(&self) -> Result<Vec<u8>> {
        self.validate()?;
        let mut info = INFO_PREFIX.to_vec();
        canon::write_canonical(&self.to_value(), &mut info);
        Ok(info)
    }
}

/// One recipient's entry in an envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    /// RFC 7638 thumbprint of the recipient's X25519 key.
    pub kid: String,
    /// HPKE encapsulated key.
    pub enc: Vec<u8>,
    /// Several recipients only: the content key sealed to this recipient. Empty otherwise.
    pub wrapped_key: Vec<u8>,
}

impl From<wire::Meta> for Meta {
    fn from(m: wire::Meta) -> Meta {
        Meta { record_id: m.record_id, source: m.source, sequence: m.sequence, created: m.created, content_type: m.content_type }
    }
}

impl From<wire::Recipient> for Recipient {
    fn from(r: wire::Recipient) -> Recipient {
        Recipient { kid: r.kid, enc: r.enc, wrapped_key: r.wrapped_key }
    }
}

/// A sealed record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    pub meta: Meta,
    pub aead: Aead,
    pub recipients: Vec<Recipient>,
    pub ct: Vec<u8>,
}

impl Envelope {
    /// Seals `plaintext` to `recipients` (public keys suffice) with `aead` (AES-256-GCM or
    /// ChaCha20-Poly1305). One recipient: plain RFC 9180 single-shot. Several: a random content
    /// key sealed to each, the body sealed once under it.
    pub fn seal(plaintext: &[u8], meta: Meta, recipients: &[&RecipientKey], aead: Aead) -> Result<Envelope> {
        let sealing = Sealing::new(plaintext.len(), &meta, recipients, aead)?;
        let mut ct = Vec::with_capacity(plaintext.len() + aead.tag_len());
        ct.extend_from_slice(plaintext);
        let tag = sealing.seal_in_place(aead, &mut ct)?;
        ct.extend_from_slice(&tag);
        Ok(Envelope { meta, aead, recipients: sealing.entries, ct })
    }

    /// Seals straight into the protobuf encoding: the same envelope as
    /// `Envelope::seal(..)?.to_protobuf()`, with the record copied once instead of three times,
    /// which is what a megabyte record costs.
    pub fn seal_to_protobuf(plaintext: &[u8], meta: Meta, recipients: &[&RecipientKey], aead: Aead) -> Result<Vec<u8>> {
        let mut out = vec![0u8; Envelope::protobuf_len(plaintext.len(), &meta, recipients, aead)?];
        let written = Envelope::seal_to_protobuf_into(plaintext, meta, recipients, aead, &mut out)?;
        debug_assert_eq!(written, out.len());
        Ok(out)
    }

    /// The exact length of the protobuf envelope `seal_to_protobuf` makes for a record of
    /// `plaintext_len` bytes, computed without any cryptography (for caller-allocated output).
    pub fn protobuf_len(plaintext_len: usize, meta: &Meta, recipients: &[&RecipientKey], aead: Aead) -> Result<usize> {
        check_recipients(plaintext_len, recipients, aead)?;
        let several = recipients.len() > 1;
        let entries = recipients
            .iter()
            .map(|k| Recipient {
                kid: k.kid().to_owned(),
                enc: vec![0; hpke::X25519_LEN],
                wrapped_key: if several { vec![0; CONTENT_KEY_LEN + aead.tag_len()] } else { Vec::new() },
            })
            .collect();
        let head = Envelope { meta: meta.clone(), aead, recipients: entries, ct: Vec::new() }.wire_head();
        let info_len = meta.info()?.len();
        let ct_len = plaintext_len + aead.tag_len();
        Ok(prost::Message::encoded_len(&head)
            + prost::encoding::key_len(4)
            + prost::encoding::encoded_len_varint(ct_len as u64)
            + ct_len
            + prost::encoding::key_len(5)
            + prost::encoding::encoded_len_varint(info_len as u64)
            + info_len)
    }

    /// Seals into caller memory: writes the protobuf envelope at the start of `out` and
    /// returns its length, `MEDSEAL_BUFFER_TOO_SMALL` if `out` is shorter than
    /// [`Envelope::protobuf_len`]. The record is copied once, into `out`, and encrypted there.
    pub fn seal_to_protobuf_into(plaintext: &[u8], meta: Meta, recipients: &[&RecipientKey], aead: Aead, out: &mut [u8]) -> Result<usize> {
        let needed = Envelope::protobuf_len(plaintext.len(), &meta, recipients, aead)?;
        if out.len() < needed {
            return Err(err!(MEDSEAL_BUFFER_TOO_SMALL, "the envelope needs {needed} bytes; the buffer has {}", out.len()));
        }
        let sealing = Sealing::new(plaintext.len(), &meta, recipients, aead)?;
        let head = Envelope { meta, aead, recipients: sealing.entries.clone(), ct: Vec::new() }.wire_head();
        let ct_len = plaintext.len() + aead.tag_len();
        let mut cursor = &mut out[..needed];
        prost::Message::encode_raw(&head, &mut cursor);
        prost::encoding::encode_key(4, prost::encoding::WireType::LengthDelimited, &mut cursor);
        prost::encoding::encode_varint(ct_len as u64, &mut cursor);
        let (body, rest) = std::mem::take(&mut cursor).split_at_mut(plaintext.len());
        body.copy_from_slice(plaintext);
        let tag = sealing.seal_in_place(aead, body).inspect_err(|_| body.fill(0))?;
        let (tag_slot, mut rest) = rest.split_at_mut(aead.tag_len());
        tag_slot.copy_from_slice(&tag);
        prost::encoding::bytes::encode(5, &sealing.info, &mut rest);
        debug_assert!(rest.is_empty(), "protobuf_len is exact");
        Ok(needed)
    }

    /// Opens the envelope with a private recipient key. The info is recomputed from `meta`,
    /// so any change to the metadata fails authentication.
    pub fn open(&self, key: &RecipientKey) -> Result<zeroize::Zeroizing<Vec<u8>>> {
        let mut plaintext = zeroize::Zeroizing::new(vec![0u8; self.plaintext_len()]);
        self.open_into(key, &mut plaintext)?;
        Ok(plaintext)
    }

    /// The length of the plaintext inside (for caller-allocated output).
    pub fn plaintext_len(&self) -> usize {
        self.ct.len().saturating_sub(self.aead.tag_len())
    }

    /// Opens into caller memory: writes the plaintext at the start of `out` (at least
    /// [`Envelope::plaintext_len`] bytes, else `MEDSEAL_BUFFER_TOO_SMALL`) and returns its
    /// length. On failure nothing readable is left in `out`.
    pub fn open_into(&self, key: &RecipientKey, out: &mut [u8]) -> Result<usize> {
        self.open_ciphertext_into(&self.ct, key, out)
    }

    /// Opens an encoded envelope (JSON or protobuf, as [`Envelope::decode`] reads them) into
    /// caller memory in one call. A protobuf envelope's ciphertext is read where it lies in
    /// `bytes`, not copied into an `Envelope` first.
    pub fn open_encoded_into(bytes: &[u8], key: &RecipientKey, out: &mut [u8]) -> Result<usize> {
        EncodedEnvelope::read(bytes)?.open_into(key, out)
    }

    /// The plaintext length of an encoded envelope, without any cryptography.
    pub fn encoded_plaintext_len(bytes: &[u8]) -> Result<usize> {
        Ok(EncodedEnvelope::read(bytes)?.plaintext_len())
    }

    /// The in-place protobuf reading, only where [`Envelope::decode`] would read protobuf
    /// straight away (input not starting with `{`), so both paths always see the same
    /// envelope. Everything else, errors included, goes through `decode`.
    fn split_as_decode_would(bytes: &[u8]) -> Option<(Envelope, &[u8])> {
        if looks_like_json(bytes) {
            return None;
        }
        Envelope::split_protobuf(bytes).ok()
    }

    /// Decodes a protobuf envelope leaving its ciphertext in place: the returned envelope has
    /// an empty `ct`, and the slice is the ciphertext inside `bytes`. Fails on anything that
    /// is not a well-formed SealedRecord (callers fall back to [`Envelope::decode`]).
    fn split_protobuf(bytes: &[u8]) -> Result<(Envelope, &[u8])> {
        check_size(bytes, MAX_PROTOBUF_BYTES)?;
        let not_protobuf = || err!(MEDSEAL_SEAL_NOT_PROTOBUF, "the bytes are not a protobuf medseal.v1.SealedRecord");
        let mut head = Vec::new();
        let mut ct: &[u8] = &[];
        let mut recipients = 0usize;
        let mut rest = bytes;
        while !rest.is_empty() {
            let field = next_field(&mut rest).ok_or_else(not_protobuf)?;
            if field.number == 4 && field.wire_type == 2 {
                ct = field.payload; // the last occurrence wins, as in protobuf (and prost)
            } else {
                if field.number == 3 {
                    recipients += 1;
                    check_recipients_so_far(recipients)?;
                }
                head.extend_from_slice(field.raw);
            }
        }
        let message: wire::SealedRecord = prost::Message::decode(head.as_slice()).map_err(|_| not_protobuf())?;
        check_canonical_protobuf(bytes, &message, ct)?;
        let (Some(meta), Some(suite)) = (message.meta, message.suite) else { return Err(not_protobuf()) };
        let meta = Meta::from(meta);
        let recipients: Vec<Recipient> = message.recipients.into_iter().map(Recipient::from).collect();
        let aead = Envelope::check_parts(&meta, (suite.kem, suite.kdf, suite.aead), &recipients, ct.len())?;
        check_informative_info(&meta, &message.info)?;
        Ok((Envelope { meta, aead, recipients, ct: Vec::new() }, ct))
    }

    /// Opens with `ct` as the ciphertext (this envelope's own, or one still in its encoding).
    fn open_ciphertext_into(&self, ct: &[u8], key: &RecipientKey, out: &mut [u8]) -> Result<usize> {
        key.secret()?; // a public-only key cannot open: say so before looking for its kid
        let entry = self.recipients.iter().find(|r| r.kid == key.kid()).ok_or_else(|| {
            err!(
                MEDSEAL_SEAL_WRONG_RECIPIENT,
                "the envelope is not addressed to key {} ({} recipient(s))",
                key.kid(),
                self.recipients.len()
            )
        })?;
        let plaintext_len = ct.len().saturating_sub(self.aead.tag_len());
        if out.len() < plaintext_len {
            return Err(err!(MEDSEAL_BUFFER_TOO_SMALL, "the plaintext needs {plaintext_len} bytes; the buffer has {}", out.len()));
        }
        let info = self.meta.info()?;
        if self.recipients.len() == 1 {
            return hpke::open_into(self.aead, key, &entry.enc, &info, b"", ct, out);
        }
        let content_key = hpke::open_with_key(self.aead, key, &entry.enc, &info, b"", &entry.wrapped_key)?;
        if content_key.len() != CONTENT_KEY_LEN {
            return Err(err!(MEDSEAL_SEAL_MALFORMED, "the wrapped content key has {} bytes, not {CONTENT_KEY_LEN}", content_key.len()));
        }
        hpke::aead_open_into(self.aead, &content_key, &BODY_NONCE, &info, ct, out)
    }

    /// The HPKE info of this envelope (recomputed from meta).
    pub fn info(&self) -> Result<Vec<u8>> {
        self.meta.info()
    }

    /// The protobuf encoding (`medseal.v1.SealedRecord`), fields in number order. The
    /// ciphertext is written straight into the output instead of being cloned into a message.
    pub fn to_protobuf(&self) -> Result<Vec<u8>> {
        let head = self.wire_head();
        let info = self.info()?;
        let mut out = Vec::with_capacity(prost::Message::encoded_len(&head) + self.ct.len() + info.len() + 24);
        prost::Message::encode_raw(&head, &mut out);
        prost::encoding::bytes::encode(4, &self.ct, &mut out);
        prost::encoding::bytes::encode(5, &info, &mut out);
        Ok(out)
    }

    /// Fields 1 to 3 of the protobuf message (meta, suite, recipients).
    fn wire_head(&self) -> wire::SealedRecord {
        wire::SealedRecord {
            meta: Some(wire::Meta {
                record_id: self.meta.record_id.clone(),
                source: self.meta.source.clone(),
                sequence: self.meta.sequence,
                created: self.meta.created.clone(),
                content_type: self.meta.content_type.clone(),
            }),
            suite: Some(wire::Suite { kem: KEM_X25519_HKDF_SHA256.into(), kdf: KDF_HKDF_SHA256.into(), aead: self.aead.id().into() }),
            recipients: self
                .recipients
                .iter()
                .map(|r| wire::Recipient { kid: r.kid.clone(), enc: r.enc.clone(), wrapped_key: r.wrapped_key.clone() })
                .collect(),
            ct: Vec::new(),
            info: Vec::new(),
        }
    }

    /// Decodes the protobuf encoding. An informative `info` (field 5) that is present must be
    /// the meta's (`MEDSEAL_SEAL_DECRYPT_FAILED` otherwise: the meta or the copy was altered).
    pub fn from_protobuf(bytes: &[u8]) -> Result<Envelope> {
        check_size(bytes, MAX_PROTOBUF_BYTES)?;
        check_recipient_count(bytes)?;
        let message: wire::SealedRecord = prost::Message::decode(bytes)
            .map_err(|e| err!(MEDSEAL_SEAL_NOT_PROTOBUF, "the bytes are not a protobuf medseal.v1.SealedRecord: {e}"))?;
        check_canonical_protobuf(bytes, &message, &message.ct)?;
        let meta = message.meta.ok_or_else(|| err!(MEDSEAL_SEAL_NOT_PROTOBUF, "the SealedRecord has no meta"))?;
        let suite = message.suite.ok_or_else(|| err!(MEDSEAL_SEAL_NOT_PROTOBUF, "the SealedRecord has no suite"))?;
        let meta = Meta::from(meta);
        let recipients = message.recipients.into_iter().map(Recipient::from).collect();
        Envelope::checked(meta, (suite.kem, suite.kdf, suite.aead), recipients, &message.info, message.ct)
    }

    /// The JSON mapping: the same fields, bytes as base64url, written as canonical JSON.
    pub fn to_json(&self) -> Result<Vec<u8>> {
        let recipients = self
            .recipients
            .iter()
            .map(|r| {
                let mut members = vec![("enc", Value::string(b64::encode(&r.enc))), ("kid", Value::string(r.kid.as_str()))];
                if !r.wrapped_key.is_empty() {
                    members.push(("wrapped_key", Value::string(b64::encode(&r.wrapped_key))));
                }
                Value::object(members)
            })
            .collect();
        let number = |n: u16| Value::Number(canon::Number::new(f64::from(n)).expect("finite"));
        let envelope = Value::object([
            ("ct", Value::string(b64::encode(&self.ct))),
            ("info", Value::string(b64::encode(&self.info()?))),
            ("meta", self.meta.to_value()),
            ("recipients", Value::Array(recipients)),
            (
                "suite",
                Value::object([
                    ("aead", number(self.aead.id())),
                    ("kdf", number(KDF_HKDF_SHA256)),
                    ("kem", number(KEM_X25519_HKDF_SHA256)),
                ]),
            ),
        ]);
        Ok(envelope.to_canonical())
    }

    /// Decodes the JSON mapping. Unknown members are refused, so a typo is not silently lost.
    /// `info` is required, as strict base64url (`MEDSEAL_SEAL_MALFORMED`), and must be the
    /// meta's info or empty (`MEDSEAL_SEAL_DECRYPT_FAILED`: the meta or the copy was altered).
    pub fn from_json(bytes: &[u8]) -> Result<Envelope> {
        check_size(bytes, MAX_JSON_BYTES)?;
        // Numbers must be written canonically (`42`, not `42.0`): the info is recomputed from
        // them, and other readers must get the same bytes.
        // A valid envelope has a few dozen values (at most 16 recipients): no more are parsed.
        let options = CanonOptions { max_bytes: MAX_JSON_BYTES, max_values: 256, allow_lossy_numbers: false, ..CanonOptions::plain() };
        let json =
            canon::parse(bytes, &options).map_err(|e| err!(MEDSEAL_SEAL_MALFORMED, "the envelope is not valid JSON: {}", e.message()))?;
        let top = Fields::new(&json, "envelope", &["ct", "info", "meta", "recipients", "suite"])?;
        let meta_json = top.object("meta")?;
        let meta_fields = Fields::new(meta_json, "meta", &["content_type", "created", "record_id", "sequence", "source"])?;
        let meta = Meta {
            record_id: meta_fields.text("record_id")?.to_owned(),
            source: meta_fields.text("source")?.to_owned(),
            sequence: meta_fields.integer("sequence")?,
            created: meta_fields.text("created")?.to_owned(),
            content_type: meta_fields.text("content_type")?.to_owned(),
        };
        let suite = Fields::new(top.object("suite")?, "suite", &["aead", "kdf", "kem"])?;
        let suite = (suite.small("kem")?, suite.small("kdf")?, suite.small("aead")?);
        let Some(Value::Array(list)) = json.get("recipients") else {
            return Err(err!(MEDSEAL_SEAL_MALFORMED, "\"recipients\" must be an array"));
        };
        let mut recipients = Vec::with_capacity(list.len());
        for entry in list {
            let fields = Fields::new(entry, "recipient", &["enc", "kid", "wrapped_key"])?;
            recipients.push(Recipient {
                kid: fields.text("kid")?.to_owned(),
                enc: fields.bytes("enc")?,
                wrapped_key: if entry.get("wrapped_key").is_some() { fields.bytes("wrapped_key")? } else { Vec::new() },
            });
        }
        // "info" is informative: never used to open, but it must be the meta's (or empty).
        let info = top.bytes("info")?;
        Envelope::checked(meta, suite, recipients, &info, top.bytes("ct")?)
    }

    /// Decodes either encoding: JSON when the first non-blank byte is `{`, protobuf otherwise.
    /// Bytes that only look like JSON after leading blanks are tried as protobuf too when they
    /// are not JSON (see below).
    pub fn decode(bytes: &[u8]) -> Result<Envelope> {
        if looks_like_json(bytes) {
            // Fix (found by tests/seal.rs): a SealedRecord starts with 0x0a (field 1, meta),
            // which is also a JSON blank, then the meta's length; a 123-byte meta makes that
            // length byte `{`, so valid protobuf was sent to the JSON decoder and refused.
            // When the JSON decoder refuses bytes that did not start with `{` itself, try
            // protobuf; keep the JSON error unless the bytes parse as a SealedRecord.
            match Envelope::from_json(bytes) {
                Err(json_error) if !bytes.starts_with(b"{") => match Envelope::from_protobuf(bytes) {
                    Err(e) if e.code() == crate::error::ResultCode::MEDSEAL_SEAL_NOT_PROTOBUF => Err(json_error),
                    protobuf => protobuf,
                },
                json => json,
            }
        } else {
            Envelope::from_protobuf(bytes)
        }
    }

    /// Structural checks shared by both decoders, the informative `info` copy included.
    fn checked(meta: Meta, suite: (u32, u32, u32), recipients: Vec<Recipient>, info: &[u8], ct: Vec<u8>) -> Result<Envelope> {
        let aead = Envelope::check_parts(&meta, suite, &recipients, ct.len())?;
        check_informative_info(&meta, info)?;
        Ok(Envelope { meta, aead, recipients, ct })
    }

    /// The structural checks, on parts that may borrow their ciphertext; returns the AEAD.
    fn check_parts(meta: &Meta, (kem, kdf, aead): (u32, u32, u32), recipients: &[Recipient], ct_len: usize) -> Result<Aead> {
        let aead_suite = u16::try_from(aead).ok().and_then(Aead::from_id).filter(|a| *a != Aead::Aes128Gcm);
        let aead = match aead_suite {
            Some(a) if kem == u32::from(KEM_X25519_HKDF_SHA256) && kdf == u32::from(KDF_HKDF_SHA256) => a,
            _ => {
                return Err(err!(
                    MEDSEAL_SEAL_UNKNOWN_SUITE,
                    "HPKE suite kem 0x{kem:04x} kdf 0x{kdf:04x} aead 0x{aead:04x} is not supported (0x0020/0x0001 with 0x0002 or 0x0003)"
                ))
            }
        };
        meta.validate()?;
        if recipients.is_empty() || recipients.len() > MAX_RECIPIENTS {
            return Err(err!(MEDSEAL_SEAL_MALFORMED, "an envelope has 1 to {MAX_RECIPIENTS} recipients, not {}", recipients.len()));
        }
        if let Some(kid) = duplicate_kid(recipients.iter().map(|r| r.kid.as_str())) {
            return Err(err!(MEDSEAL_SEAL_MALFORMED, "recipient {} is listed twice", crate::untrusted::shown(kid)));
        }
        let several = recipients.len() > 1;
        for r in recipients {
            if r.enc.len() != hpke::X25519_LEN {
                return Err(err!(MEDSEAL_SEAL_TRUNCATED, "a recipient's enc has {} bytes; X25519 needs 32", r.enc.len()));
            }
            if several && r.wrapped_key.len() != CONTENT_KEY_LEN + aead.tag_len() {
                return Err(err!(
                    MEDSEAL_SEAL_TRUNCATED,
                    "a recipient's wrapped_key has {} bytes, not {}",
                    r.wrapped_key.len(),
                    CONTENT_KEY_LEN + aead.tag_len()
                ));
            }
            if !several && !r.wrapped_key.is_empty() {
                return Err(err!(MEDSEAL_SEAL_MALFORMED, "a single-recipient envelope carries no wrapped_key"));
            }
        }
        if ct_len < aead.tag_len() {
            return Err(err!(MEDSEAL_SEAL_TRUNCATED, "the ciphertext has {} bytes, shorter than its {}-byte tag", ct_len, aead.tag_len()));
        }
        Ok(aead)
    }
}

/// The decoders' check of the informative `info` copy (DESIGN 3.3: openers recompute the info
/// from the meta and never use the copy). Absent (protobuf: field 5 empty or missing; JSON:
/// `"info":""`) is accepted, as the format makes it optional; present, it must be exactly
/// `"medseal/v1\n" || JCS(meta)`, else `MEDSEAL_SEAL_DECRYPT_FAILED`, the code of an altered
/// envelope: either the copy or the meta was changed (a changed meta would fail to open
/// anyway). Without this check the copy could be changed at will while the envelope still
/// opened: its bytes, and so the SHA-256 the hub's idempotency and receipts are keyed on, would
/// change with the content unchanged. `meta` has been validated.
fn check_informative_info(meta: &Meta, info: &[u8]) -> Result<()> {
    if info.is_empty() || info == meta.info()?.as_slice() {
        return Ok(());
    }
    Err(err!(
        MEDSEAL_SEAL_DECRYPT_FAILED,
        "the envelope's informative \"info\" ({} bytes) is not \"medseal/v1\\n\" || JCS(meta): its meta or that copy was altered",
        info.len()
    ))
}

/// Everything a seal needs before the body is encrypted: the recipients' entries, and the
/// key, nonce and AAD of the body.
struct Sealing {
    info: Vec<u8>,
    entries: Vec<Recipient>,
    key: zeroize::Zeroizing<Vec<u8>>,
    nonce: [u8; 12],
    /// Empty for one recipient (plain RFC 9180); the info for several.
    aad: Vec<u8>,
}

impl Sealing {
    fn new(plaintext_len: usize, meta: &Meta, recipients: &[&RecipientKey], aead: Aead) -> Result<Sealing> {
        check_recipients(plaintext_len, recipients, aead)?;
        let info = meta.info()?;
        if let [only] = recipients {
            let sender = hpke::Sender::new(aead, only.public_bytes(), &info)?;
            let entry = Recipient { kid: only.kid().to_owned(), enc: sender.enc.to_vec(), wrapped_key: Vec::new() };
            return Ok(Sealing { info, entries: vec![entry], key: sender.key, nonce: sender.nonce, aad: Vec::new() });
        }
        let mut content_key = zeroize::Zeroizing::new(vec![0u8; CONTENT_KEY_LEN]);
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), content_key.as_mut())
            .map_err(|_| err!(MEDSEAL_SYSTEM_ERROR, "the system random generator failed"))?;
        let mut entries = Vec::with_capacity(recipients.len());
        for key in recipients {
            let sealed = hpke::seal(aead, key.public_bytes(), &info, b"", &content_key)?;
            entries.push(Recipient { kid: key.kid().to_owned(), enc: sealed.enc.to_vec(), wrapped_key: sealed.ct });
        }
        let aad = info.clone();
        Ok(Sealing { info, entries, key: content_key, nonce: BODY_NONCE, aad })
    }

    /// Encrypts the body in place and returns its tag.
    fn seal_in_place(&self, aead: Aead, body: &mut [u8]) -> Result<[u8; 16]> {
        hpke::aead_seal_in_place(aead, &self.key, &self.nonce, &self.aad, body)
    }
}

/// What every seal checks before any work: suite, recipient count and uniqueness, size.
fn check_recipients(plaintext_len: usize, recipients: &[&RecipientKey], aead: Aead) -> Result<()> {
    if aead == Aead::Aes128Gcm {
        return Err(err!(MEDSEAL_SEAL_UNKNOWN_SUITE, "envelopes use AES-256-GCM or ChaCha20-Poly1305"));
    }
    if recipients.is_empty() || recipients.len() > MAX_RECIPIENTS {
        return Err(err!(MEDSEAL_INVALID_ARGUMENT, "an envelope has 1 to {MAX_RECIPIENTS} recipients, not {}", recipients.len()));
    }
    if plaintext_len > MAX_ENVELOPE_BYTES {
        return Err(err!(MEDSEAL_SEAL_TOO_LARGE, "the record is {plaintext_len} bytes; the limit is {MAX_ENVELOPE_BYTES}"));
    }
    if let Some(kid) = duplicate_kid(recipients.iter().map(|k| k.kid())) {
        return Err(err!(MEDSEAL_INVALID_ARGUMENT, "recipient {kid} is listed twice"));
    }
    Ok(())
}

/// The first kid that appears twice, if any (at most 16 recipients: quadratic is fine).
fn duplicate_kid<'k>(kids: impl Iterator<Item = &'k str> + Clone) -> Option<&'k str> {
    kids.clone().enumerate().find(|(i, kid)| kids.clone().skip(i + 1).any(|other| other == *kid)).map(|(_, kid)| kid)
}

/// Largest protobuf envelope: the largest record, its tag and room for the head.
const MAX_PROTOBUF_BYTES: usize = crate::limits::MAX_ENVELOPE_PROTOBUF_BYTES;
/// Largest JSON envelope: base64 grows the content by a third.
const MAX_JSON_BYTES: usize = crate::limits::MAX_ENVELOPE_JSON_BYTES;

fn check_size(bytes: &[u8], limit: usize) -> Result<()> {
    if bytes.len() > limit {
        return Err(err!(MEDSEAL_SEAL_TOO_LARGE, "the envelope is {} bytes; the limit is {limit}", bytes.len()));
    }
    Ok(())
}

/// Refuses a protobuf envelope with more recipient fields than allowed before anything is
/// decoded: otherwise 128 MiB of empty field-3 entries would become tens of millions of
/// allocated recipients before the count is checked. Malformed bytes are left to the decoder.
/// Whether `decode` reads `bytes` as the JSON mapping first: the first non-blank byte is `{`.
fn looks_like_json(bytes: &[u8]) -> bool {
    bytes.trim_ascii_start().starts_with(b"{")
}

fn check_recipient_count(bytes: &[u8]) -> Result<()> {
    let mut rest = bytes;
    let mut recipients = 0usize;
    while let Some(field) = next_field(&mut rest) {
        if field.number == 3 {
            recipients += 1;
            check_recipients_so_far(recipients)?;
        }
    }
    Ok(())
}

fn check_recipients_so_far(count: usize) -> Result<()> {
    if count > MAX_RECIPIENTS {
        return Err(err!(MEDSEAL_SEAL_MALFORMED, "an envelope has 1 to {MAX_RECIPIENTS} recipients; this one has more"));
    }
    Ok(())
}

/// One top-level protobuf field, still in its encoding.
struct Field<'a> {
    number: u64,
    wire_type: u64,
    /// The whole field: key, length and payload.
    raw: &'a [u8],
    payload: &'a [u8],
}

/// Reads the field at the start of `rest` and advances past it; `None` when the bytes are
/// not a well-formed field (the wire types proto3 uses: varint, 64-bit, bytes, 32-bit).
/// Refuses a SealedRecord that is not in canonical protobuf encoding, so that a record has
/// exactly one encoding and one digest (no unknown fields to carry text along, no field given
/// twice, fields in number order, minimal lengths, no default values written): `bytes` must be
/// what prost writes for `message`, whose ciphertext is `ct` (compared where it lies, without
/// copying it).
fn check_canonical_protobuf(bytes: &[u8], message: &wire::SealedRecord, ct: &[u8]) -> Result<()> {
    use prost::Message;
    // Fields 1-3 (meta, suite, recipients) as prost writes them, then ct (4), then info (5).
    let head = wire::SealedRecord {
        meta: message.meta.clone(),
        suite: message.suite,
        recipients: message.recipients.clone(),
        ct: Vec::new(),
        info: Vec::new(),
    }
    .encode_to_vec();
    let mut framing = Vec::with_capacity(16);
    if !ct.is_empty() {
        prost::encoding::encode_key(4, prost::encoding::WireType::LengthDelimited, &mut framing);
        prost::encoding::encode_varint(ct.len() as u64, &mut framing);
    }
    let mut info = Vec::with_capacity(message.info.len() + 8);
    if !message.info.is_empty() {
        prost::encoding::bytes::encode(5, &message.info, &mut info);
    }
    let canonical = bytes.len() == head.len() + framing.len() + ct.len() + info.len() && {
        let (got_head, rest) = bytes.split_at(head.len());
        let (got_framing, rest) = rest.split_at(framing.len());
        let (got_ct, got_info) = rest.split_at(ct.len());
        got_head == head.as_slice()
            && got_framing == framing.as_slice()
            && (std::ptr::eq(got_ct.as_ptr(), ct.as_ptr()) || got_ct == ct)
            && got_info == info.as_slice()
    };
    if canonical {
        Ok(())
    } else {
        Err(err!(
            MEDSEAL_SEAL_MALFORMED,
            "the SealedRecord is not in canonical protobuf encoding (an unknown or repeated field, fields out of order, a non-minimal length or a default value written); a record has exactly one encoding"
        ))
    }
}

fn next_field<'a>(rest: &mut &'a [u8]) -> Option<Field<'a>> {
    let start: &'a [u8] = rest;
    let mut cursor = start;
    let key = prost::encoding::decode_varint(&mut cursor).ok()?;
    let (number, wire_type) = (key >> 3, key & 7);
    let payload_len = match wire_type {
        0 => {
            prost::encoding::decode_varint(&mut cursor).ok()?;
            0
        }
        1 => 8,
        2 => usize::try_from(prost::encoding::decode_varint(&mut cursor).ok()?).ok()?,
        5 => 4,
        _ => return None,
    };
    if payload_len > cursor.len() {
        return None;
    }
    let (payload, after) = cursor.split_at(payload_len);
    *rest = after;
    Some(Field { number, wire_type, raw: &start[..start.len() - after.len()], payload })
}

/// Typed access to the members of one JSON object of the mapping, refusing unknown members.
struct Fields<'v, 'a> {
    value: &'v Value<'a>,
    what: &'static str,
}

impl<'v, 'a> Fields<'v, 'a> {
    fn new(value: &'v Value<'a>, what: &'static str, allowed: &[&str]) -> Result<Self> {
        let Value::Object(members) = value else {
            return Err(err!(MEDSEAL_SEAL_MALFORMED, "the {what} must be a JSON object"));
        };
        if let Some((name, _)) = members.iter().find(|(k, _)| !allowed.contains(&k.as_ref())) {
            return Err(err!(MEDSEAL_SEAL_MALFORMED, "unknown member \"{}\" in the {what}", crate::untrusted::shown(name)));
        }
        Ok(Fields { value, what })
    }

    fn get(&self, name: &str) -> Result<&'v Value<'a>> {
        self.value.get(name).ok_or_else(|| err!(MEDSEAL_SEAL_MALFORMED, "the {} has no \"{name}\"", self.what))
    }

    fn object(&self, name: &str) -> Result<&'v Value<'a>> {
        self.get(name)
    }

    fn text(&self, name: &str) -> Result<&'v str> {
        self.get(name)?.as_str().ok_or_else(|| err!(MEDSEAL_SEAL_MALFORMED, "{}.{name} must be a string", self.what))
    }

    fn bytes(&self, name: &str) -> Result<Vec<u8>> {
        b64::decode(self.text(name)?.as_bytes()).ok_or_else(|| err!(MEDSEAL_SEAL_MALFORMED, "{}.{name} is not strict base64url", self.what))
    }

    fn integer(&self, name: &str) -> Result<u64> {
        match self.get(name)? {
            Value::Number(n) if n.as_f64() >= 0.0 && n.as_f64().fract() == 0.0 && n.as_f64() <= MAX_SEQUENCE as f64 => {
                Ok(n.as_f64() as u64)
            }
            _ => Err(err!(MEDSEAL_SEAL_MALFORMED, "{}.{name} must be a whole number between 0 and 2^53-1", self.what)),
        }
    }

    fn small(&self, name: &str) -> Result<u32> {
        match self.get(name)? {
            Value::Number(n) if (0.0..=65535.0).contains(&n.as_f64()) && n.as_f64().fract() == 0.0 => Ok(n.as_f64() as u32),
            _ => Err(err!(MEDSEAL_SEAL_MALFORMED, "{}.{name} must be a registry number (0 to 65535)", self.what)),
        }
    }
}

/// An encoded envelope read once, for callers that need both its plaintext length and its
/// plaintext (the C ABI's size-then-open): a protobuf envelope's ciphertext stays where it lies
/// in the encoded bytes.
pub struct EncodedEnvelope<'a> {
    head: Envelope,
    /// The ciphertext in the encoded bytes (protobuf), or `None` when `head` owns it (JSON).
    ciphertext: Option<&'a [u8]>,
}

impl<'a> EncodedEnvelope<'a> {
    /// Reads `bytes` as [`Envelope::decode`] would (same checks, same errors).
    pub fn read(bytes: &'a [u8]) -> Result<EncodedEnvelope<'a>> {
        Ok(match Envelope::split_as_decode_would(bytes) {
            Some((head, ct)) => EncodedEnvelope { head, ciphertext: Some(ct) },
            None => EncodedEnvelope { head: Envelope::decode(bytes)?, ciphertext: None },
        })
    }

    fn ciphertext(&self) -> &[u8] {
        self.ciphertext.unwrap_or(&self.head.ct)
    }

    /// The length of the plaintext inside.
    pub fn plaintext_len(&self) -> usize {
        self.ciphertext().len().saturating_sub(self.head.aead.tag_len())
    }

    /// Opens into caller memory, as [`Envelope::open_into`].
    pub fn open_into(&self, key: &RecipientKey, out: &mut [u8]) -> Result<usize> {
        self.head.open_ciphertext_into(self.ciphertext(), key, out)
    }
}
