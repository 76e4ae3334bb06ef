//! The hub answers what hub/openapi.yaml says at the edges (issue 10, point 13), over mutual
//! TLS to the real server: a record-level problem is that record's rejection, not the batch's;
//! integer parameters have one range and one error code on every endpoint; and every error
//! answer, also those the HTTP layer makes before the router sees the request, is
//! `{code, reason}` JSON with a code the document lists.

mod common;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use common::{assert_rejected, status, Pilot, PROTOBUF};
use medseal::wire::{RecordStatus, SubmitBatch, SubmittedRecord};
use medseal_hub::http::MAX_INTEGER;
use prost::Message;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::{json, Value};

fn document() -> serde_yaml_ng::Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml")).unwrap();
    serde_yaml_ng::from_str(&text).unwrap()
}

/// The error codes hub/openapi.yaml lists.
fn described_codes() -> BTreeSet<String> {
    let doc = document();
    doc["components"]["schemas"]["Error"]["properties"]["code"]["enum"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// Sends `request` as it is over a mutual-TLS connection as facility A (HTTP/1.1, so that
/// requests no HTTP client library would send can be sent), and reads the answer to its end.
fn raw(pilot: &Pilot, request: &[u8]) -> (u16, String, Vec<u8>) {
    let dir = &pilot.a.dir;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_file(dir.join("hub-ca.pem")).unwrap()).unwrap();
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(dir.join("client.pem")).unwrap().collect::<Result<_, _>>().unwrap();
    let key = PrivateKeyDer::from_pem_file(dir.join("client.key")).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let server = ServerName::try_from("127.0.0.1").unwrap();
    let connection = rustls::ClientConnection::new(Arc::new(config), server).unwrap();
    let tcp = TcpStream::connect(pilot.addr()).unwrap();
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
    let mut tls = rustls::StreamOwned::new(connection, tcp);
    tls.write_all(request).unwrap();
    tls.flush().unwrap();
    let mut answer = Vec::new();
    // The hub closes the connection after these answers (or the request asks it to).
    match tls.read_to_end(&mut answer) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !answer.is_empty() => {}
        Err(e) => panic!("reading the answer: {e} (after {} bytes)", answer.len()),
    }
    let at = answer.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete head");
    let head = String::from_utf8(answer[..at].to_vec()).unwrap().to_ascii_lowercase();
    let status = head[9..12].parse().unwrap();
    (status, head, answer[at + 4..].to_vec())
}

/// Asserts a `{code, reason}` JSON answer with a code hub/openapi.yaml lists.
fn assert_error(what: &str, (status, head, body): (u16, String, Vec<u8>), want_status: u16, want_code: &str) {
    assert_eq!(status, want_status, "{what}: {head}\n{}", String::from_utf8_lossy(&body));
    assert!(head.contains("\r\ncontent-type: application/json"), "{what}: {head}");
    let value: Value = serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{what}: the body is not JSON ({e}): {body:?}"));
    assert_eq!(value["code"], want_code, "{what}: {value}");
    assert!(!value["reason"].as_str().unwrap().is_empty(), "{what}: {value}");
    assert!(described_codes().contains(want_code), "{what}: {want_code} is not in openapi.yaml's Error codes");
}

fn get(path: &str, headers: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\n{headers}connection: close\r\n\r\n").into_bytes()
}

#[test]
fn a_record_whose_fields_are_not_base64url_is_rejected_alone() {
    // Each of these matched the document's patterns (or had none) and got 400 for the whole
    // batch, so every record in it went to dead letters.
    let pilot = Pilot::new();
    let url = pilot.url("/v1/records");
    let good = pilot.a.record("b64-1", 1);
    let good_json = |r: &SubmittedRecord| {
        let body = medseal_hub::json::batch_to_json(&SubmitBatch { records: vec![r.clone()] });
        serde_json::from_slice::<Value>(&body).unwrap()["records"][0].clone()
    };
    let mut bad_digest = good_json(&pilot.a.record("b64-2", 2));
    // 43 characters of the alphabet, but the last one leaves bits over: no 32 bytes encode so.
    bad_digest["digest"] = json!(format!("{}B", "A".repeat(42)));
    let mut bad_envelope = good_json(&pilot.a.record("b64-3", 3));
    bad_envelope["envelope"] = json!("A"); // one character encodes no whole byte
    let mut padded = good_json(&pilot.a.record("b64-4", 4));
    padded["digest"] = json!(format!("{}=", padded["digest"].as_str().unwrap()));
    let body = json!({ "records": [good_json(&good), bad_digest, bad_envelope, padded] });
    let (status_code, _, answer) = pilot.a.post_raw(&url, "application/json", body.to_string().as_bytes());
    assert_eq!(status_code, 200, "{}", String::from_utf8_lossy(&answer));
    let response = medseal_hub::json::response_from_json(&answer).unwrap();
    let ids: Vec<&str> = response.results.iter().map(|r| r.record_id.as_str()).collect();
    assert_eq!(ids, ["b64-1", "b64-2", "b64-3", "b64-4"]);
    assert_eq!(status(&response.results[0]), RecordStatus::Accepted);
    pilot.verify_receipt(&response.results[0], &good);
    assert_rejected(&response.results[1], "DIGEST_MISMATCH");
    assert_rejected(&response.results[2], "MALFORMED");
    assert_rejected(&response.results[3], "DIGEST_MISMATCH");

    // A body that is not a SubmitBatch at all is still the batch's error.
    for body in [&b"{"[..], br#"{"records":[{"record_id":1}]}"#, br#"{"records":[],"extra":1}"#, b"[]", br#"{"records":[["x","",""]]}"#] {
        let (status_code, _, answer) = pilot.a.post_raw(&url, "application/json", body);
        assert_eq!(status_code, 400, "{}", String::from_utf8_lossy(&answer));
        let value: Value = serde_json::from_slice(&answer).unwrap();
        assert_eq!(value["code"], "MALFORMED_BATCH");
    }
}

#[test]
fn an_empty_digest_is_a_digest_mismatch_and_the_document_allows_it() {
    let pilot = Pilot::new();
    let url = pilot.url("/v1/records");
    for (format, body) in [
        ("application/json", {
            let mut record = pilot.a.record("empty-1", 1);
            record.digest.clear();
            medseal_hub::json::batch_to_json(&SubmitBatch { records: vec![record] })
        }),
        (PROTOBUF, {
            let mut record = pilot.a.record("empty-2", 2);
            record.digest.clear();
            SubmitBatch { records: vec![record] }.encode_to_vec()
        }),
    ] {
        let (status_code, _, answer) = pilot.a.post_raw(&url, format, &body);
        assert_eq!(status_code, 200, "{format}: {}", String::from_utf8_lossy(&answer));
    }
    let (_, _, answer) = pilot.a.post_raw(&url, "application/json", br#"{"records":[{"record_id":"e","envelope":"","digest":""}]}"#);
    let response = medseal_hub::json::response_from_json(&answer).unwrap();
    assert_rejected(&response.results[0], "DIGEST_MISMATCH");
    // What the server answers per record, the document lets through: the request's fields are
    // strings with no pattern or length (a pattern there would promise a 400 the hub does not give).
    let doc = document();
    let record = &doc["components"]["schemas"]["SubmittedRecord"]["properties"];
    for field in ["record_id", "envelope", "digest"] {
        let schema = record[field].as_mapping().unwrap();
        assert_eq!(record[field]["type"].as_str(), Some("string"), "{field}");
        for constraint in ["pattern", "minLength", "maxLength", "$ref", "format"] {
            assert!(!schema.contains_key(constraint), "SubmittedRecord.{field} has {constraint}");
        }
    }
}

#[test]
fn integer_parameters_have_one_range_and_one_code_on_every_endpoint() {
    let pilot = Pilot::new();
    pilot.a.submit(&pilot.url("/v1/records"), &[pilot.a.record("int-1", 1), pilot.a.record("int-2", 2)]);
    let size = document()["components"]["schemas"]["Size"]["maximum"].as_u64().unwrap();
    assert_eq!(size, MAX_INTEGER);
    let too_big = MAX_INTEGER + 1;
    let queries = [
        "/v1/proofs/inclusion?leaf_index={}",
        "/v1/proofs/inclusion?leaf_index=0&tree_size={}",
        "/v1/proofs/consistency?first={}&second=2",
        "/v1/proofs/consistency?first=1&second={}",
        "/v1/ledger/entries?start={}",
        "/v1/ledger/entries?start=0&end={}",
    ];
    for query in queries {
        for value in
            [too_big.to_string(), u64::MAX.to_string(), "18446744073709551616".into(), "-1".into(), "+1".into(), "1.0".into(), "".into()]
        {
            let path = query.replace("{}", &value);
            let (code, body) = pilot.get(&path);
            let body: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!((code, body["code"].as_str().unwrap()), (400, "BAD_PARAMETER"), "{path}: {body}");
        }
    }
    // The largest valid value: outside this ledger (404 RANGE), except `end`, which is cut at
    // the ledger's size as documented.
    for query in &queries[..5] {
        let path = query.replace("{}", &MAX_INTEGER.to_string());
        let (code, body) = pilot.get(&path);
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!((code, body["code"].as_str().unwrap()), (404, "RANGE"), "{path}: {body}");
    }
    let (code, body) = pilot.get(&format!("/v1/ledger/entries?start=0&end={MAX_INTEGER}"));
    assert_eq!(code, 200);
    assert_eq!(body.iter().filter(|&&b| b == b'\n').count(), 2);
}

#[test]
fn every_error_answer_is_code_and_reason_json() {
    let pilot = Pilot::new();
    // Made by hyper before the router sees the request (empty bodies before).
    let many: String = (0..150).map(|i| format!("x-h{i}: v\r\n")).collect();
    assert_error("150 header fields", raw(&pilot, &get("/v1/tree-head", &many)), 431, "HEADERS_TOO_LARGE");
    let long = format!("/v1/tree-head?x={}", "a".repeat(70_000));
    assert_error("a 70 KB URI", raw(&pilot, &get(&long, "")), 414, "URI_TOO_LONG");
    assert_error("a header name with a space", raw(&pilot, &get("/v1/tree-head", "bad header: x\r\n")), 400, "BAD_REQUEST");
    assert_error("not HTTP", raw(&pilot, b"HELLO\r\n\r\n"), 400, "BAD_REQUEST");
    // The router's own limits, below hyper's.
    let big = format!("x-big: {}\r\n", "a".repeat(9_000));
    assert_error("a 9 KB header", raw(&pilot, &get("/v1/tree-head", &big)), 431, "HEADERS_TOO_LARGE");
    let long = format!("/v1/tree-head?x={}", "a".repeat(10_000));
    assert_error("a 10 KB URI", raw(&pilot, &get(&long, "")), 414, "URI_TOO_LONG");
    // Routing, media type, size, parameters.
    assert_error("no such path", raw(&pilot, &get("/v1/nothing", "")), 404, "NOT_FOUND");
    let (status, head, body) = raw(&pilot, b"DELETE /v1/tree-head HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n");
    assert!(head.contains("\r\nallow: get,head"), "{head}");
    assert_error("DELETE", (status, head, body), 405, "METHOD_NOT_ALLOWED");
    let post = |content_type: &str, body: &[u8]| {
        let mut request = format!(
            "POST /v1/records HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(body);
        request
    };
    assert_error("text/plain", raw(&pilot, &post("text/plain", b"{}")), 415, "UNSUPPORTED_MEDIA_TYPE");
    let records = vec![SubmittedRecord::default(); 1001];
    let body = SubmitBatch { records }.encode_to_vec();
    assert_error("1001 records", raw(&pilot, &post(PROTOBUF, &body)), 413, "TOO_MANY_RECORDS");
    assert_error("not protobuf", raw(&pilot, &post(PROTOBUF, b"\xff\xff")), 400, "MALFORMED_BATCH");
    assert_error("bad query", raw(&pilot, &get("/v1/proofs/inclusion?leaf_index=%FF", "")), 400, "BAD_PARAMETER");
    assert_error("range", raw(&pilot, &get("/v1/proofs/inclusion?leaf_index=5", "")), 404, "RANGE");
    // Good requests on the same kind of connection are answered as before, also near the limits.
    let near = format!("x-big: {}\r\n", "a".repeat(7_000));
    let fields: String = (0..90).map(|i| format!("x-h{i}: v\r\n")).collect();
    for (path, headers) in [
        ("/v1/tree-head".to_owned(), String::new()),
        (format!("/v1/tree-head?x={}", "a".repeat(8_000)), near),
        ("/v1/tree-head".into(), fields),
    ] {
        let (status, _, body) = raw(&pilot, &get(&path, &headers));
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    }
}

#[test]
fn a_protobuf_record_id_that_is_not_utf8_is_rejected_alone() {
    // prost refused the whole SubmitBatch for it (400, every record dead-lettered).
    let pilot = Pilot::new();
    let good = pilot.a.record("utf8-1", 1);
    let other = pilot.a.record("utf8-2", 2);
    let mut body = SubmitBatch { records: vec![good.clone()] }.encode_to_vec();
    // records (field 1, length-delimited) holding record_id (field 1) = 0xff, then the envelope and digest.
    let mut record = vec![0x0a, 1, 0xff];
    record.extend(SubmittedRecord { record_id: String::new(), ..other }.encode_to_vec());
    body.push(0x0a);
    prost::encoding::encode_varint(record.len() as u64, &mut body);
    body.extend(record);
    let (status_code, _, answer) = pilot.a.post_raw(&pilot.url("/v1/records"), PROTOBUF, &body);
    assert_eq!(status_code, 200, "{}", String::from_utf8_lossy(&answer));
    let response = medseal::wire::SubmitResponse::decode(answer.as_slice()).unwrap();
    assert_eq!(response.results.len(), 2);
    assert_eq!(status(&response.results[0]), RecordStatus::Accepted);
    pilot.verify_receipt(&response.results[0], &good);
    assert_rejected(&response.results[1], "MALFORMED");
    assert_eq!(response.results[1].record_id, "\u{fffd}");
}
