//! Transport exports: a configuration builder, the immutable transport built from it, delivery
//! from an outbox (one call, or a background thread) and its report.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use medseal_macros::ffi_export;

use super::{bytes, free_box, handle, handle_mut, medseal_key, text, Out};
use crate::error::{err, Result, ResultCode};
use crate::transport::{deliver_all, Deliverer, DeliveryReport, Transport, TransportConfigBuilder};

use super::outbox::medseal_outbox;

/// Collects a transport configuration. One thread at a time; free with
/// `medseal_transport_builder_free`.
pub struct medseal_transport_builder {
    builder: TransportConfigBuilder,
}

/// The HTTPS connection to the hub (mutual TLS). Immutable: share it between threads and
/// outboxes freely; free with `medseal_transport_free`.
pub struct medseal_transport {
    transport: Arc<Transport>,
}

/// What a delivery run did. Immutable; free with `medseal_delivery_report_free`.
pub struct medseal_delivery_report {
    report: DeliveryReport,
}

/// A background delivery thread. Its functions are safe from any thread; free with
/// `medseal_deliverer_free` (which stops it).
pub struct medseal_deliverer {
    deliverer: Deliverer,
}

fn flag(value: u32, name: &str) -> Result<bool> {
    match value {
        0 => Ok(false),
        1 => Ok(true),
        other => Err(err!(MEDSEAL_INVALID_ARGUMENT, "`{name}` must be 0 or 1, not {other}")),
    }
}

/// Starts a transport configuration for the hub at `url` (UTF-8): `https://host[:port][/base]`.
/// Plain `http://` is refused (`MEDSEAL_TRANSPORT_CONFIG`): records go only over TLS with a
/// verified hub certificate, and nothing turns that off. Defaults: the hub CA must be set
/// (pinned), no proxy, connect timeout 10 s, total timeout 30 s, 100 records per batch.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_transport_builder_new(url: *const u8, len: usize, out: *mut *mut medseal_transport_builder) -> ResultCode {
    let url = text(url, len, "url")?;
    let out = Out::new(out, "out")?;
    out.write_box(medseal_transport_builder { builder: TransportConfigBuilder::new(url)? });
    Ok(())
}

/// Sets the client certificate chain (PEM, the facility's certificate first; its subject CN
/// is the facility id). Errors: `MEDSEAL_TRANSPORT_CONFIG`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_transport_builder_set_client_certificate(
    builder: *mut medseal_transport_builder,
    pem: *const u8,
    len: usize,
) -> ResultCode {
    let builder = handle_mut(builder, "builder")?;
    builder.builder.client_certificate_pem(bytes(pem, len, "pem")?)?;
    Ok(())
}

/// Sets the client private key (PEM: PKCS#8, PKCS#1 or SEC1, unencrypted). It is copied into
/// memory wiped when the builder and the transports built from it are freed; the caller may
/// wipe its copy at once. Errors: `MEDSEAL_TRANSPORT_CONFIG`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_transport_builder_set_client_key(
    builder: *mut medseal_transport_builder,
    pem: *const u8,
    len: usize,
) -> ResultCode {
    let builder = handle_mut(builder, "builder")?;
    builder.builder.client_key_pem(bytes(pem, len, "pem")?)?;
    Ok(())
}

/// Pins the hub's CA (PEM, one or more certificates): the hub's server certificate must chain
/// to it. Errors: `MEDSEAL_TRANSPORT_CONFIG`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_transport_builder_set_hub_ca(builder: *mut medseal_transport_builder, pem: *const u8, len: usize) -> ResultCode {
    let builder = handle_mut(builder, "builder")?;
    builder.builder.hub_ca_pem(bytes(pem, len, "pem")?)?;
    Ok(())
}

/// `on` = 1 trusts the public web roots (Mozilla's list, compiled in) for the hub's
/// certificate instead of a pinned hub CA (not both); 0 (the default) does not.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_transport_builder_set_public_roots(builder: *mut medseal_transport_builder, on: u32) -> ResultCode {
    let builder = handle_mut(builder, "builder")?;
    builder.builder.public_roots(flag(on, "on")?);
    Ok(())
}

/// Sets the hub's receipt key (public): receipts must verify with it before a record is marked
/// delivered. The key may be freed afterwards.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_transport_builder_set_receipt_key(
    builder: *mut medseal_transport_builder,
    key: *const medseal_key,
) -> ResultCode {
    let builder = handle_mut(builder, "builder")?;
    let key = handle(key, "key")?;
    builder.builder.receipt_key(Arc::new(key.key.to_public()));
    Ok(())
}

/// Sets the hub's tree-head key (public): the tree head of every inclusion proof must verify
/// with it. The key may be freed afterwards.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_transport_builder_set_tree_head_key(
    builder: *mut medseal_transport_builder,
    key: *const medseal_key,
) -> ResultCode {
    let builder = handle_mut(builder, "builder")?;
    let key = handle(key, "key")?;
    builder.builder.tree_head_key(Arc::new(key.key.to_public()));
    Ok(())
}

/// Reads a facility directory: the hospital's client.key (`medseal facility init`) and what
/// `medseal hub enroll` wrote beside it: client.pem, hub-ca.pem, receipt.pub and
/// tree-head.pub. `path` is UTF-8.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_transport_builder_set_facility_dir(
    builder: *mut medseal_transport_builder,
    path: *const u8,
    len: usize,
) -> ResultCode {
    let builder = handle_mut(builder, "builder")?;
    builder.builder.facility_dir(Path::new(text(path, len, "path")?))?;
    Ok(())
}

/// Sets the client private key to a key on a PKCS#11 token, for TLS: the module's path
/// (UTF-8), the token's label, the key's label (`CKA_LABEL`, unique on the token) and the user
/// PIN (never logged, wiped after use), as `medseal_signer_builder_from_pkcs11` takes them. The
/// key is opened now: a wrong PIN is `MEDSEAL_PKCS11_PIN`, a missing key
/// `MEDSEAL_PKCS11_KEY_NOT_FOUND`, an Ed25519 key `MEDSEAL_KEY_UNSUPPORTED`. Each TLS handshake
/// is then signed on the token (P-256, or RSA with RSA-PSS); the transport refuses a client
/// certificate that does not hold the token's public key (`MEDSEAL_TRANSPORT_CONFIG`). Call it
/// before `medseal_transport_builder_set_facility_dir`, which then reads no client.key.
#[ffi_export]
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn medseal_transport_builder_set_client_key_pkcs11(
    builder: *mut medseal_transport_builder,
    module: *const u8,
    module_len: usize,
    token_label: *const u8,
    token_label_len: usize,
    key_label: *const u8,
    key_label_len: usize,
    pin: *const u8,
    pin_len: usize,
) -> ResultCode {
    let builder = handle_mut(builder, "builder")?;
    let config =
        super::sign::pkcs11_config((module, module_len), (token_label, token_label_len), (key_label, key_label_len), (pin, pin_len), None)?;
    builder.builder.client_key_pkcs11(&config)?;
    Ok(())
}

/// Sets the connect timeout (TCP, proxy and TLS handshake) in milliseconds (default 10000).
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_transport_builder_set_connect_timeout_ms(builder: *mut medseal_transport_builder, ms: u32) -> ResultCode {
    let builder = handle_mut(builder, "builder")?;
    builder.builder.connect_timeout(Duration::from_millis(u64::from(ms)))?;
    Ok(())
}

/// Sets the total timeout of one submission in milliseconds (default 30000). Keep it below the
/// outbox lease (60 s by default).
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_transport_builder_set_timeout_ms(builder: *mut medseal_transport_builder, ms: u32) -> ResultCode {
    let builder = handle_mut(builder, "builder")?;
    builder.builder.timeout(Duration::from_millis(u64::from(ms)))?;
    Ok(())
}

/// Sets the number of records per batch, 1 to 1000 (default 100).
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_transport_builder_set_batch_size(builder: *mut medseal_transport_builder, records: u32) -> ResultCode {
    let builder = handle_mut(builder, "builder")?;
    builder.builder.batch_size(records as usize)?;
    Ok(())
}

/// Goes through an HTTP CONNECT proxy: `http://[user:password@]host[:port]` (UTF-8).
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_transport_builder_set_proxy(builder: *mut medseal_transport_builder, url: *const u8, len: usize) -> ResultCode {
    let builder = handle_mut(builder, "builder")?;
    builder.builder.proxy(text(url, len, "url")?)?;
    Ok(())
}

/// `on` = 1 takes the proxy from the environment when the transport is built (`HTTPS_PROXY`,
/// `https_proxy`, `ALL_PROXY`, `all_proxy`, honouring `NO_PROXY`/`no_proxy`); 0 connects
/// directly (the default).
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_transport_builder_set_proxy_from_env(builder: *mut medseal_transport_builder, on: u32) -> ResultCode {
    let builder = handle_mut(builder, "builder")?;
    builder.builder.proxy_from_env(flag(on, "on")?);
    Ok(())
}

/// Builds the transport: checks that a client certificate and its key, the hub CA (or public
/// roots) and both hub keys are set, and that the key belongs to the certificate. No
/// connection is made yet. The builder stays valid (and must still be freed). Errors:
/// `MEDSEAL_TRANSPORT_CONFIG`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_transport_builder_build(
    builder: *const medseal_transport_builder,
    out: *mut *mut medseal_transport,
) -> ResultCode {
    let builder = handle(builder, "builder")?;
    let out = Out::new(out, "out")?;
    let transport = Transport::new(builder.builder.build()?)?;
    out.write_box(medseal_transport { transport: Arc::new(transport) });
    Ok(())
}

/// Frees a transport configuration builder (the key copy is wiped). NULL is a no-op.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_transport_builder_free(builder: *mut medseal_transport_builder) {
    free_box(builder)
}

/// Frees a transport. A deliverer using it keeps its own reference. NULL is a no-op.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_transport_free(transport: *mut medseal_transport) {
    free_box(transport)
}

/// Delivers every due record of `outbox` through `transport`, batch after batch, until nothing
/// is due or a whole batch failed (the hub down, a certificate refused: the records wait for
/// their next attempt). Receipts are verified before a record is marked delivered. Returns
/// `MEDSEAL_OK` with a report even when the hub could not be reached (the report's last error
/// says why); fails only when the outbox itself does (`MEDSEAL_OUTBOX_*`). Blocks the calling
/// thread; several threads or processes may deliver from one outbox file at once (a record is
/// never sent by two of them at the same time).
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_outbox_deliver(
    outbox: *const medseal_outbox,
    transport: *const medseal_transport,
    out: *mut *mut medseal_delivery_report,
) -> ResultCode {
    let outbox = handle(outbox, "outbox")?;
    let transport = handle(transport, "transport")?;
    let out = Out::new(out, "out")?;
    let report = deliver_all(&outbox.outbox, &transport.transport)?;
    out.write_box(medseal_delivery_report { report });
    Ok(())
}

/// Writes the number of records delivered: acknowledged by the hub with a receipt that
/// verified, duplicates included.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_delivery_report_delivered(report: *const medseal_delivery_report, count: *mut u64) -> ResultCode {
    let report = handle(report, "report")?;
    Out::new(count, "count")?.write(report.report.delivered);
    Ok(())
}

/// Writes how many of the delivered records the hub already had (`DUPLICATE`, with the
/// original receipt).
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_delivery_report_duplicates(report: *const medseal_delivery_report, count: *mut u64) -> ResultCode {
    let report = handle(report, "report")?;
    Out::new(count, "count")?.write(report.report.duplicates);
    Ok(())
}

/// Writes the number of records moved to dead letters (refused by the hub for good; the
/// outbox keeps its code and reason).
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_delivery_report_dead_letters(report: *const medseal_delivery_report, count: *mut u64) -> ResultCode {
    let report = handle(report, "report")?;
    Out::new(count, "count")?.write(report.report.dead_letters);
    Ok(())
}

/// Writes the number of records left queued for a later attempt (the hub unreachable or
/// refusing the connection, or a receipt that did not verify).
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_delivery_report_retried(report: *const medseal_delivery_report, count: *mut u64) -> ResultCode {
    let report = handle(report, "report")?;
    Out::new(count, "count")?.write(report.report.retried);
    Ok(())
}

/// Writes whether a record is waiting (`*present` 1 or 0) and, if so, when the next one
/// becomes due (Unix seconds, `*at`; 0 when none).
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_delivery_report_next_attempt_at(
    report: *const medseal_delivery_report,
    present: *mut u32,
    at: *mut i64,
) -> ResultCode {
    let report = handle(report, "report")?;
    let (present, at) = (Out::new(present, "present")?, Out::new(at, "at")?);
    present.write(u32::from(report.report.next_attempt_at.is_some()));
    at.write(report.report.next_attempt_at.unwrap_or(0));
    Ok(())
}

/// Writes the code of the last transport or protocol error of the run to `*code`
/// (`MEDSEAL_OK` if there was none) and borrows its message (UTF-8, length 0 if none), valid
/// until the report is freed. `MEDSEAL_TRANSPORT_TLS` names the certificate problem (unknown
/// CA, name mismatch, expired, client certificate refused).
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_delivery_report_last_error(
    report: *const medseal_delivery_report,
    code: *mut ResultCode,
    message: *mut *const u8,
    len: *mut usize,
) -> ResultCode {
    let report = handle(report, "report")?;
    let (code, message, len) = (Out::new(code, "code")?, Out::new(message, "message")?, Out::new(len, "len")?);
    match &report.report.last_error {
        Some(error) => {
            code.write(error.code());
            message.write(error.message().as_ptr());
            len.write(error.message().len());
        }
        None => {
            code.write(ResultCode::MEDSEAL_OK);
            message.write(b"".as_ptr());
            len.write(0);
        }
    }
    Ok(())
}

/// Frees a delivery report. NULL is a no-op.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_delivery_report_free(report: *mut medseal_delivery_report) {
    free_box(report)
}

/// Starts a background thread delivering from `outbox` through `transport`: at once, when
/// notified (`medseal_deliverer_notify`, e.g. after each enqueue), when a queued record becomes
/// due, and at least every `poll_interval_ms` (at least 10). After a whole batch failed it
/// waits for that batch's next attempt. The deliverer holds its own references: the outbox and
/// transport handles may be freed while it runs.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_deliverer_start(
    outbox: *const medseal_outbox,
    transport: *const medseal_transport,
    poll_interval_ms: u32,
    out: *mut *mut medseal_deliverer,
) -> ResultCode {
    let outbox = handle(outbox, "outbox")?;
    let transport = handle(transport, "transport")?;
    let out = Out::new(out, "out")?;
    let deliverer =
        Deliverer::start(outbox.outbox.clone(), transport.transport.clone(), Duration::from_millis(u64::from(poll_interval_ms)))?;
    out.write_box(medseal_deliverer { deliverer });
    Ok(())
}

/// Asks the deliverer for a round now. Returns at once; safe from any thread. NULL is a no-op.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_deliverer_notify(deliverer: *const medseal_deliverer) {
    if let Ok(d) = handle(deliverer, "deliverer") {
        d.deliverer.notify();
    }
}

/// Stops the deliverer's thread and waits for it: a batch in progress is finished and marked
/// first. Later calls do nothing. NULL is a no-op.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_deliverer_stop(deliverer: *const medseal_deliverer) {
    if let Ok(d) = handle(deliverer, "deliverer") {
        d.deliverer.stop();
    }
}

/// Writes a new report of the deliverer's last round (an empty one if none ran yet).
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_deliverer_last_report(deliverer: *const medseal_deliverer, out: *mut *mut medseal_delivery_report) -> ResultCode {
    let deliverer = handle(deliverer, "deliverer")?;
    let out = Out::new(out, "out")?;
    out.write_box(medseal_delivery_report { report: deliverer.deliverer.last_report().unwrap_or_default() });
    Ok(())
}

/// Stops the deliverer (as `medseal_deliverer_stop`) and frees it, once no other thread uses
/// the handle. NULL is a no-op.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_deliverer_free(deliverer: *mut medseal_deliverer) {
    free_box(deliverer)
}
