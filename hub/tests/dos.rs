//! Issue 10 point 5: one facility cannot starve the others or the hub's memory. Each attack is
//! made by a real client over mutual TLS (raw rustls streams, an HTTP/2 client) against the real
//! hub on 127.0.0.1, with short limits set in hub.json, and shown refused while the other
//! facility still delivers.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use common::{status, Pilot, PROTOBUF};
use medseal::wire::{RecordStatus, SubmitBatch};
use prost::Message;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use serde_json::json;

/// Counts the bytes this test process has allocated (the hub runs in it), with the peak, so
/// a test can show that a request did not make the hub build what it refuses.
struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        unsafe { System.dealloc(p, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, layout, new_size) };
        if !q.is_null() {
            if new_size > layout.size() {
                grew(new_size - layout.size());
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Ordering::SeqCst);
            }
        }
        q
    }
}

fn grew(size: usize) {
    let now = CURRENT.fetch_add(size, Ordering::SeqCst) + size;
    PEAK.fetch_max(now, Ordering::SeqCst);
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The tests that measure memory run one at a time.
static MEMORY: Mutex<()> = Mutex::new(());

/// The most bytes allocated at once while `f` ran, above what was allocated before.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = CURRENT.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let value = f();
    (value, PEAK.load(Ordering::SeqCst).saturating_sub(base))
}

const MIB: usize = 1 << 20;

/// A pilot whose hub.json has these `limits`.
fn pilot_with(limits: serde_json::Value) -> Pilot {
    Pilot::with_hub_json(|config| config["limits"] = limits)
}

/// A rustls client configuration with the facility's client certificate in `dir`.
fn client_config(dir: &Path, alpn: &[&[u8]]) -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    roots.add(CertificateDer::from_pem_file(dir.join("hub-ca.pem")).unwrap()).unwrap();
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(
            vec![CertificateDer::from_pem_file(dir.join("client.pem")).unwrap()],
            PrivateKeyDer::from_pem_file(dir.join("client.key")).unwrap(),
        )
        .unwrap();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(config)
}

type Tls = StreamOwned<ClientConnection, TcpStream>;

/// A TLS connection to the hub as the facility in `dir`, handshake done, HTTP/1.1; reads time
/// out after 20 s (the old hub took 300 s to answer some of these attacks).
fn connect(pilot: &Pilot, dir: &Path) -> Tls {
    let mut tcp = TcpStream::connect(pilot.addr()).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut connection = ClientConnection::new(client_config(dir, &[b"http/1.1"]), ServerName::try_from("127.0.0.1").unwrap()).unwrap();
    while connection.is_handshaking() {
        connection.complete_io(&mut tcp).unwrap();
    }
    StreamOwned::new(connection, tcp)
}

/// An HTTP/1.1 answer: status, `Retry-After`, body.
#[derive(Debug)]
struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: Vec<u8>,
}

impl Answer {
    /// The error body's `code`.
    fn code(&self) -> String {
        let value: serde_json::Value =
            serde_json::from_slice(&self.body).unwrap_or_else(|_| panic!("a JSON error body: {}", String::from_utf8_lossy(&self.body)));
        value["code"].as_str().unwrap().to_owned()
    }
}

/// Reads one HTTP/1.1 answer (with a Content-Length).
fn read_answer(stream: &mut impl Read) -> std::io::Result<Answer> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let mut length = 0;
    let mut retry_after = None;
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap(),
                "retry-after" => retry_after = Some(value.trim().to_owned()),
                _ => {}
            }
        }
    }
    let mut body = buf[end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(ErrorKind::UnexpectedEof.into());
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(Answer { status, retry_after, body })
}

/// Whether the hub has closed the connection: end of stream or a reset, not a read timeout.
fn closed_by_hub(stream: &mut Tls) -> bool {
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => panic!("the hub sent data on an idle connection"),
        Err(e) => !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
    }
}

/// The headers of a protobuf batch of `length` bytes.
fn post_head(length: u64, content_type: &str) -> String {
    format!("POST /v1/records HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\n\r\n")
}

/// Facility B delivers one record and it is accepted (within the client's 60 s timeout).
fn b_delivers(pilot: &Pilot, record_id: &str) {
    let started = Instant::now();
    let batch = SubmitBatch { records: vec![pilot.b.record(record_id, 1)] };
    let (code, _, body) = pilot.b.post_raw(&pilot.url("/v1/records"), PROTOBUF, &batch.encode_to_vec());
    assert_eq!(code, 200, "B's delivery: {}", String::from_utf8_lossy(&body));
    let response = medseal::wire::SubmitResponse::decode(body.as_slice()).unwrap();
    assert_eq!(status(&response.results[0]), RecordStatus::Accepted, "{:?}", response.results[0]);
    assert!(started.elapsed() < Duration::from_secs(10), "B waited {:?}", started.elapsed());
}

/// Waits up to `within` for `n` answers on `answers`.
fn collect<T>(answers: &mpsc::Receiver<T>, n: usize, within: Duration) -> Vec<T> {
    let deadline = Instant::now() + within;
    let mut got = Vec::new();
    while got.len() < n {
        match answers.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(answer) => got.push(answer),
            Err(_) => break,
        }
    }
    got
}

#[test]
fn slow_uploads_from_one_facility_do_not_block_another() {
    let pilot = pilot_with(json!({ "body_timeout_secs": 3 }));
    // Eight uploads from A that announce 100 kB and send 10 bytes (more than the hub's 8 batch
    // slots held, in the old hub, for 300 s each).
    let (tx, answers) = mpsc::channel();
    for _ in 0..8 {
        let mut stream = connect(&pilot, &pilot.a.dir);
        stream.write_all(post_head(100_000, PROTOBUF).as_bytes()).unwrap();
        stream.write_all(&[0x0a; 10]).unwrap();
        stream.flush().unwrap();
        let tx = tx.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            let answer = read_answer(&mut stream);
            let _ = tx.send((answer.map_err(|e| e.to_string()), started.elapsed()));
            // The connection stays open until the answer is read: the upload is real.
            drop(stream);
        });
    }
    // A's own limit: four uploads at once; the other four are refused at once, for A only.
    let refused = collect(&answers, 4, Duration::from_secs(10));
    // B is not delayed by any of them.
    b_delivers(&pilot, "b-1");
    assert_eq!(refused.len(), 4, "A's uploads over its limit answered at once: {refused:?}");
    for (answer, _) in &refused {
        let answer = answer.as_ref().unwrap();
        assert_eq!((answer.status, answer.code().as_str()), (503, "TOO_MANY_UPLOADS"), "{answer:?}");
        assert_eq!(answer.retry_after.as_deref(), Some("5"));
    }
    // The four slow ones get 408 TIMEOUT after the body timeout (3 s), not 300 s.
    let timed_out = collect(&answers, 4, Duration::from_secs(20));
    assert_eq!(timed_out.len(), 4, "{timed_out:?}");
    for (answer, _) in &timed_out {
        let answer = answer.as_ref().unwrap();
        assert_eq!((answer.status, answer.code().as_str()), (408, "TIMEOUT"), "{answer:?}");
    }
    // Then A delivers again.
    let results = pilot.a.submit(&pilot.url("/v1/records"), &[pilot.a.record("a-1", 1)]);
    assert_eq!(status(&results[0]), RecordStatus::Accepted);
}

#[test]
fn headers_without_body_on_http2_streams_do_not_block_another_facility() {
    let pilot = pilot_with(json!({ "body_timeout_secs": 3 }));
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (tx, answers) = mpsc::channel();
    let addr = pilot.addr();
    let config = client_config(&pilot.a.dir, &[b"h2"]);
    // One HTTP/2 connection from A, eight POST streams with headers and no body.
    let (_streams, _send) = runtime.block_on(async move {
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let tls = tokio_rustls::TlsConnector::from(config).connect(ServerName::try_from("127.0.0.1").unwrap(), tcp).await.unwrap();
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
        let (send, connection) = h2::client::handshake(tls).await.unwrap();
        tokio::spawn(connection);
        let mut streams = Vec::new();
        for _ in 0..8 {
            let mut ready = send.clone().ready().await.unwrap();
            let request = axum::http::Request::post(format!("https://127.0.0.1:{}/v1/records", addr.port()))
                .header("content-type", PROTOBUF)
                .header("content-length", "1000")
                .body(())
                .unwrap();
            let (response, stream) = ready.send_request(request, false).unwrap();
            streams.push(stream);
            let tx = tx.clone();
            tokio::spawn(async move {
                let answer = async {
                    let response = response.await?;
                    let status = response.status().as_u16();
                    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
                    let mut body = response.into_body();
                    let mut bytes = Vec::new();
                    while let Some(chunk) = body.data().await {
                        let chunk = chunk?;
                        let _ = body.flow_control().release_capacity(chunk.len());
                        bytes.extend_from_slice(&chunk);
                    }
                    Ok::<_, h2::Error>(Answer { status, retry_after, body: bytes })
                };
                let _ = tx.send(answer.await.map_err(|e| e.to_string()));
            });
        }
        (streams, send)
    });
    let refused = collect(&answers, 4, Duration::from_secs(10));
    b_delivers(&pilot, "b-1");
    assert_eq!(refused.len(), 4, "A's streams over its upload limit answered at once: {refused:?}");
    for answer in &refused {
        let answer = answer.as_ref().unwrap();
        assert_eq!((answer.status, answer.code().as_str()), (503, "TOO_MANY_UPLOADS"), "{answer:?}");
        assert_eq!(answer.retry_after.as_deref(), Some("5"));
    }
    let timed_out = collect(&answers, 4, Duration::from_secs(20));
    assert_eq!(timed_out.len(), 4, "{timed_out:?}");
    for answer in &timed_out {
        let answer = answer.as_ref().unwrap();
        assert_eq!((answer.status, answer.code().as_str()), (408, "TIMEOUT"), "{answer:?}");
    }
    runtime.shutdown_background();
}

#[test]
fn a_content_length_over_the_limit_is_413_at_once() {
    let pilot = pilot_with(json!({ "body_timeout_secs": 3 }));
    for content_type in [PROTOBUF, "application/json"] {
        // 1 TiB announced, nothing sent: the old hub waited 300 s for it, then said 408.
        let mut stream = connect(&pilot, &pilot.a.dir);
        let started = Instant::now();
        stream.write_all(post_head(1 << 40, content_type).as_bytes()).unwrap();
        let answer = read_answer(&mut stream).unwrap_or_else(|e| panic!("no answer within 20 s ({content_type}): {e}"));
        assert_eq!((answer.status, answer.code().as_str()), (413, "TOO_LARGE"), "{answer:?}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }
    // Just over the protobuf limit (64 MiB) is refused the same way, before any of it is read.
    let mut stream = connect(&pilot, &pilot.a.dir);
    stream.write_all(post_head((64 << 20) + 1, PROTOBUF).as_bytes()).unwrap();
    let answer = read_answer(&mut stream).unwrap();
    assert_eq!((answer.status, answer.code().as_str()), (413, "TOO_LARGE"), "{answer:?}");
    b_delivers(&pilot, "b-1");
}

#[test]
fn a_protobuf_body_of_millions_of_empty_records_is_refused_before_decoding() {
    let _one_at_a_time = MEMORY.lock().unwrap_or_else(|e| e.into_inner());
    let pilot = Pilot::new();
    // 16 MiB of empty records (field 1, length 0): 8 million records. Decoding them first took
    // 72 bytes each (576 MiB, 2.4 GiB for a 64 MiB body).
    let body = [0x0a, 0x00].repeat(8 * MIB);
    let ((code, _, answer), peak) = peak_during(|| pilot.a.post_raw(&pilot.url("/v1/records"), PROTOBUF, &body));
    assert_eq!(code, 413, "{}", String::from_utf8_lossy(&answer));
    let error: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(error["code"], "TOO_MANY_RECORDS");
    assert!(error["reason"].as_str().unwrap().contains("8388608"), "{error}");
    // The body itself (16 MiB) is held, a copy or two, never the records.
    eprintln!("protobuf, 8 million empty records: {} MiB at the peak", peak / MIB);
    assert!(peak < 64 * MIB, "{} MiB allocated at the peak for a 16 MiB body", peak / MIB);
    // The same records followed by a group (wire type 3, skipped by protobuf decoders): the
    // walk cannot count past it, so the batch is refused as malformed, still without decoding.
    let mut grouped = body.clone();
    grouped.extend([0x13, 0x14]);
    let ((code, _, answer), peak) = peak_during(|| pilot.a.post_raw(&pilot.url("/v1/records"), PROTOBUF, &grouped));
    assert_eq!(code, 400, "{}", String::from_utf8_lossy(&answer));
    assert!(peak < 64 * MIB, "{} MiB allocated at the peak for a 16 MiB body with a group", peak / MIB);
    // A record count over the limit inside an otherwise small batch, too.
    let tiny = medseal::wire::SubmittedRecord { record_id: "x".into(), envelope: vec![1], digest: vec![0; 32] };
    let (code, _, answer) =
        pilot.a.post_raw(&pilot.url("/v1/records"), PROTOBUF, &SubmitBatch { records: vec![tiny; 1001] }.encode_to_vec());
    assert_eq!(code, 413, "{}", String::from_utf8_lossy(&answer));
    // The hub still serves everyone.
    b_delivers(&pilot, "b-1");
}

#[test]
fn a_json_body_of_millions_of_empty_records_is_refused_before_they_are_built() {
    let _one_at_a_time = MEMORY.lock().unwrap_or_else(|e| e.into_inner());
    let pilot = Pilot::new();
    // {"records":[{},{},...]}: 16 MiB, 5.6 million records of defaults.
    let n = 16 * MIB / 3;
    let mut body = b"{\"records\":[".to_vec();
    body.extend(b"{},".repeat(n - 1));
    body.extend(b"{}]}");
    let ((code, _, answer), peak) = peak_during(|| pilot.a.post_raw(&pilot.url("/v1/records"), "application/json", &body));
    assert_eq!(code, 413, "{}", String::from_utf8_lossy(&answer));
    let error: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(error["code"], "TOO_MANY_RECORDS");
    eprintln!("JSON, 5.6 million empty records: {} MiB at the peak", peak / MIB);
    assert!(peak < 64 * MIB, "{} MiB allocated at the peak for a 16 MiB body", peak / MIB);
    // Malformed JSON after many records is MALFORMED_BATCH, also without building them.
    body.truncate(body.len() - 2);
    let ((code, _, answer), peak) = peak_during(|| pilot.a.post_raw(&pilot.url("/v1/records"), "application/json", &body));
    assert_eq!(code, 400, "{}", String::from_utf8_lossy(&answer));
    assert!(peak < 64 * MIB, "{} MiB allocated at the peak", peak / MIB);
    b_delivers(&pilot, "b-1");
}

#[test]
fn a_tls_connection_that_sends_nothing_is_closed_after_the_idle_timeout() {
    let pilot = pilot_with(json!({ "idle_timeout_secs": 1 }));
    let mut silent = connect(&pilot, &pilot.a.dir);
    let started = Instant::now();
    assert!(closed_by_hub(&mut silent), "the hub kept a silent connection open for {:?}", started.elapsed());
    b_delivers(&pilot, "b-1");
}

#[test]
fn an_idle_http1_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let pilot = pilot_with(json!({ "idle_timeout_secs": 1 }));
    let mut stream = connect(&pilot, &pilot.a.dir);
    stream.write_all(b"GET /v1/tree-head HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    assert_eq!(read_answer(&mut stream).unwrap().status, 200);
    assert!(closed_by_hub(&mut stream), "the hub kept an idle keep-alive connection open");
}

#[test]
fn an_idle_http2_connection_is_closed_after_the_idle_timeout() {
    let pilot = pilot_with(json!({ "idle_timeout_secs": 1 }));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let addr = pilot.addr();
    let config = client_config(&pilot.a.dir, &[b"h2"]);
    runtime.block_on(async move {
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let tls = tokio_rustls::TlsConnector::from(config).connect(ServerName::try_from("127.0.0.1").unwrap(), tcp).await.unwrap();
        let (send, connection) = h2::client::handshake(tls).await.unwrap();
        let mut connection = tokio::spawn(connection);
        let mut ready = send.clone().ready().await.unwrap();
        let request = axum::http::Request::get(format!("https://127.0.0.1:{}/v1/tree-head", addr.port())).body(()).unwrap();
        let (response, _) = ready.send_request(request, true).unwrap();
        assert_eq!(response.await.unwrap().status(), 200);
        // The client keeps its handle (and would answer pings): only the hub can end this.
        let ended = tokio::time::timeout(Duration::from_secs(15), &mut connection).await;
        assert!(ended.is_ok(), "the hub kept an idle HTTP/2 connection open");
        drop(send);
    });
}

/// Sends a GET on a new connection; the status, or why there was none.
fn get_on(stream: &mut Tls) -> Result<u16, String> {
    stream.write_all(b"GET /v1/tree-head HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").map_err(|e| e.to_string())?;
    read_answer(stream).map(|a| a.status).map_err(|e| e.to_string())
}

#[test]
fn connections_are_capped_per_facility_and_in_total() {
    let pilot = pilot_with(json!({ "max_connections_per_facility": 2, "max_connections": 3 }));
    // A opens its two (each answered, so the hub counts them).
    let mut a1 = connect(&pilot, &pilot.a.dir);
    let mut a2 = connect(&pilot, &pilot.a.dir);
    assert_eq!(get_on(&mut a1), Ok(200));
    assert_eq!(get_on(&mut a2), Ok(200));
    // A third from A is closed after the handshake, without an answer.
    let mut a3 = connect(&pilot, &pilot.a.dir);
    let refused = get_on(&mut a3);
    assert!(refused.is_err(), "a third connection of A was served: {refused:?}");
    // B is not affected by A's limit: one more connection (the third in total) works...
    let mut b1 = connect(&pilot, &pilot.b.dir);
    assert_eq!(get_on(&mut b1), Ok(200));
    // ...and one past the total is closed, though B has only one.
    let mut b2 = connect(&pilot, &pilot.b.dir);
    let refused = get_on(&mut b2);
    assert!(refused.is_err(), "a fourth connection in total was served: {refused:?}");
    // When A closes one, A can connect again.
    drop(a1);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut again = connect(&pilot, &pilot.a.dir);
        match get_on(&mut again) {
            Ok(status) => {
                assert_eq!(status, 200);
                break;
            }
            Err(e) => assert!(Instant::now() < deadline, "A's slot was not given back: {e}"),
        }
    }
}

#[test]
fn the_wire_walk_counts_what_the_decoder_decodes() {
    use medseal::wire::SubmittedRecord;
    use medseal_hub::limits::scan_batch;
    let record = |id: &str, size: usize| SubmittedRecord { record_id: id.into(), envelope: vec![7; size], digest: vec![1; 32] };
    for records in [vec![], vec![record("", 0)], vec![record("a", 1), record("b", 300), record("c", 70_000)], vec![record("x", 5); 1001]] {
        let mut bytes = SubmitBatch { records: records.clone() }.encode_to_vec();
        let expected = (records.len(), records.iter().map(|r| r.envelope.len()).sum::<usize>());
        let shape = scan_batch(&bytes).unwrap();
        assert_eq!((shape.records, shape.envelope_bytes), expected);
        // Unknown fields (varint, fixed64, fixed32, bytes) are walked over as decoders skip them.
        bytes.extend([0x10, 0x96, 0x01, 0x19, 0, 0, 0, 0, 0, 0, 0, 0, 0x25, 0, 0, 0, 0, 0x2a, 0x01, 0x00]);
        assert_eq!(SubmitBatch::decode(bytes.as_slice()).unwrap().records.len(), records.len());
        let shape = scan_batch(&bytes).unwrap();
        assert_eq!((shape.records, shape.envelope_bytes), expected);
    }
    // Cut short, a length past the end, a varint of 11 bytes, a group: not walked.
    let bytes = SubmitBatch { records: vec![record("a", 100)] }.encode_to_vec();
    assert_eq!(scan_batch(&bytes[..bytes.len() - 1]), None);
    assert_eq!(scan_batch(&[0x0a, 0x05, 0x00]), None);
    assert_eq!(scan_batch(&[0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), None);
    assert_eq!(scan_batch(&[0x13, 0x14]), None);
}

#[test]
fn tls_handshakes_in_progress_are_capped() {
    let pilot = pilot_with(json!({ "max_handshakes": 1 }));
    // A TCP connection that never starts its handshake holds the only handshake slot (the hub
    // accepts connections one after the other, so it has taken the slot before the next).
    let silent = TcpStream::connect(pilot.addr()).unwrap();
    let mut tcp = TcpStream::connect(pilot.addr()).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut connection =
        ClientConnection::new(client_config(&pilot.b.dir, &[b"http/1.1"]), ServerName::try_from("127.0.0.1").unwrap()).unwrap();
    let refused = (|| {
        while connection.is_handshaking() {
            connection.complete_io(&mut tcp)?;
        }
        Ok::<_, std::io::Error>(())
    })();
    assert!(refused.is_err(), "a handshake past the limit went through");
    // When the silent one goes, B connects.
    drop(silent);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let mut tcp = TcpStream::connect(pilot.addr()).unwrap();
        let mut connection =
            ClientConnection::new(client_config(&pilot.b.dir, &[b"http/1.1"]), ServerName::try_from("127.0.0.1").unwrap()).unwrap();
        let mut done = true;
        while connection.is_handshaking() {
            if connection.complete_io(&mut tcp).is_err() {
                done = false;
                break;
            }
        }
        if done {
            let mut stream = StreamOwned::new(connection, tcp);
            assert_eq!(get_on(&mut stream), Ok(200));
            break;
        }
        assert!(Instant::now() < deadline, "the handshake slot was not given back");
    }
}

#[test]
fn limits_have_documented_defaults_and_unknown_members_are_refused() {
    use medseal_hub::config::Limits;
    let base = json!({ "hostname": "hub", "listen": "127.0.0.1:8443", "hub_url": "https://hub:8443" });
    let config: medseal_hub::HubConfig = serde_json::from_value(base.clone()).unwrap();
    assert_eq!(config.limits, Limits::default());
    let defaults = Limits::default();
    assert_eq!(
        (
            defaults.max_uploads_per_facility,
            defaults.max_uploads,
            defaults.body_timeout_secs,
            defaults.header_timeout_secs,
            defaults.idle_timeout_secs,
            defaults.max_connections_per_facility,
            defaults.max_connections,
            defaults.max_handshakes,
        ),
        (4, 16, 60, 30, 60, 16, 512, 64)
    );
    let mut partial = base.clone();
    partial["limits"] = json!({ "body_timeout_secs": 5 });
    let config: medseal_hub::HubConfig = serde_json::from_value(partial).unwrap();
    assert_eq!(config.limits, Limits { body_timeout_secs: 5, ..Limits::default() });
    let mut typo = base;
    typo["limits"] = json!({ "body_timeout": 5 });
    let error = serde_json::from_value::<medseal_hub::HubConfig>(typo).unwrap_err().to_string();
    assert!(error.contains("unknown field"), "{error}");
    // init writes every limit into hub.json, so an operator sees what can be set.
    let pilot = Pilot::new();
    let written: serde_json::Value = serde_json::from_slice(&std::fs::read(pilot.hub_dir.join("hub.json")).unwrap()).unwrap();
    assert_eq!(written["limits"]["body_timeout_secs"], 60);
}
