//! The HTTPS client: one ureq agent (rustls on ring, mutual TLS, the hub's CA pinned), one
//! request per batch, and the classification of every failure into the 800 codes with a
//! message that says what went wrong and what to check.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use prost::Message;
use rustls::pki_types::CertificateDer;
use rustls::{AlertDescription, CertificateError};
use ureq::unversioned::resolver::DefaultResolver;
use ureq::unversioned::transport::{ConnectProxyConnector, Connector, TcpConnector};

use super::config::{check_proxy_url, redact_userinfo, ClientKey, ProxySetting, Roots, TransportConfig};
use super::retry::{parse_retry_after, Backoff};
use super::tls::TlsConnector;
use super::token_key::TokenTlsKey;
use crate::error::{err, Error, Result};
use crate::keys::Key;
use crate::signers::SigningBackend;
use crate::untrusted;
use crate::utc;
use crate::wire;

/// Largest answer read from the hub (1000 receipts with proofs are a few MB).
const MAX_RESPONSE_BYTES: u64 = 64 << 20;
/// Largest error text kept from a refusal.
const MAX_REASON_CHARS: usize = 500;
/// A batch's body may not exceed this (submission.proto: 64 MiB per batch).
pub(crate) const MAX_BATCH_BYTES: usize = 64 << 20;

/// What a failed submission means for the records of the batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The records stay queued and are tried again later.
    Retry {
        backoff: Backoff,
        /// From `Retry-After`: not before this Unix time.
        not_before: Option<i64>,
    },
    /// The hub refused the request for good (a 4xx other than 408, 425, 429): every record
    /// of the batch becomes a dead letter with this code and reason.
    DeadLetter { code: String, reason: String },
}

/// A failed submission: the error to report and what to do with the records.
#[derive(Clone, Debug)]
pub(crate) struct Failure {
    pub(crate) error: Error,
    pub(crate) outcome: Outcome,
}

impl Failure {
    fn retry(error: Error) -> Failure {
        Failure { error, outcome: Outcome::Retry { backoff: Backoff::Exponential, not_before: None } }
    }

    fn at_cap(error: Error) -> Failure {
        Failure { error, outcome: Outcome::Retry { backoff: Backoff::Cap, not_before: None } }
    }
}

/// The HTTPS connection to the hub: immutable and shareable between threads (`Arc`). Blocking:
/// each submission runs on the calling thread; no async runtime.
pub struct Transport {
    agent: ureq::Agent,
    records_url: String,
    /// Where we connect, for messages ("127.0.0.1:8443", "hub.example:443 through proxy …").
    target: String,
    config: TransportConfig,
    /// The same TLS settings as the agent's, for the diagnostic handshake (see
    /// [`Transport::probe_client_auth`]): `None` with public roots or a proxy.
    probe: Option<(Arc<rustls::ClientConfig>, u16)>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport").field("records_url", &self.records_url).field("target", &self.target).finish()
    }
}

impl Transport {
    /// Makes the client: checks the client certificate against its key, pins the roots, and
    /// resolves the proxy (from the environment when configured so). No connection is made
    /// yet. Errors: `MEDSEAL_TRANSPORT_CONFIG`.
    pub fn new(config: TransportConfig) -> Result<Transport> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let rustls_config = Arc::new(check_client_identity(&config, &provider)?);

        let hostport = config.hub_url["https://".len()..].split('/').next().unwrap_or_default().to_owned();
        let proxy = resolve_proxy(&config.proxy, &config.host)?;
        let target = match &proxy {
            Some(url) => format!("{hostport} through the proxy {}", redact_userinfo(url)),
            None => hostport,
        };
        let proxy = match proxy {
            Some(url) => Some(
                ureq::Proxy::new(&url)
                    .map_err(|_| err!(MEDSEAL_TRANSPORT_CONFIG, "the proxy URL {} is not valid", redact_userinfo(&url)))?,
            ),
            None => None,
        };
        let records_url = format!("{}/v1/records", config.hub_url);
        let port = config.hub_url.parse::<ureq::http::Uri>().ok().and_then(|u| u.port_u16()).unwrap_or(443);
        let probe = match (&config.roots, proxy.is_some()) {
            (Roots::HubCa(_), false) => Some((rustls_config.clone(), port)),
            _ => None,
        };
        let agent_config = ureq::Agent::config_builder()
            .https_only(true)
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .proxy(proxy)
            .timeout_connect(Some(config.connect_timeout))
            .timeout_global(Some(config.timeout))
            .user_agent(concat!("medseal/", env!("CARGO_PKG_VERSION")))
            .build();
        // ureq's own steps to the hub (through a CONNECT proxy, or TCP), then TLS with our
        // configuration (see tls.rs: ureq cannot take a key held on a token).
        let connector = ().chain(ConnectProxyConnector::default()).chain(TcpConnector::default()).chain(TlsConnector(rustls_config));
        let agent = ureq::Agent::with_parts(agent_config, connector, DefaultResolver::default());
        Ok(Transport { agent, records_url, target, config, probe })
    }

    /// The configuration this transport was made with.
    pub fn config(&self) -> &TransportConfig {
        &self.config
    }

    /// Posts one batch to `/v1/records` and returns the hub's result for each record, in order,
    /// checked to match the batch (count and record ids). Receipts are *not* verified here:
    /// [`deliver_once`](super::deliver_once) verifies them before marking records delivered.
    /// A refusal of the whole request (a 4xx) is `MEDSEAL_TRANSPORT_REJECTED`.
    pub fn submit(&self, records: &[crate::outbox::Claimed]) -> Result<Vec<wire::RecordResult>> {
        let batch = wire::SubmitBatch { records: records.iter().map(submitted).collect() };
        self.submit_batch(&batch, utc::now()).map_err(|f| f.error)
    }

    /// [`submit`](Self::submit) for a batch already in wire form, with the whole failure.
    pub(crate) fn submit_batch(&self, batch: &wire::SubmitBatch, now: i64) -> std::result::Result<Vec<wire::RecordResult>, Failure> {
        let records = &batch.records;
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let body = batch.encode_to_vec();
        let response = self
            .agent
            .post(&self.records_url)
            .header("Content-Type", "application/x-protobuf")
            .header("Accept", "application/x-protobuf")
            .header("Idempotency-Key", idempotency_key(records.iter().map(|r| r.record_id.as_str())))
            .send(&body[..]);
        let mut response = response.map_err(|e| self.classify(e, now))?;
        let status = response.status().as_u16();
        let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| parse_retry_after(v, now));
        let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let answer = response.body_mut().with_config().limit(MAX_RESPONSE_BYTES).read_to_vec().map_err(|e| self.classify(e, now))?;
        match status {
            200 => {}
            408 | 425 | 429 | 500..=599 => {
                let reason = reason_text(&answer);
                let after = retry_after.map(|t| format!("; the hub asks to wait until {}", utc::show(t))).unwrap_or_default();
                return Err(Failure {
                    error: err!(
                        MEDSEAL_TRANSPORT_HTTP,
                        "the hub at {} answered HTTP {status}{}{after}; the batch will be retried",
                        self.target,
                        with_reason(&reason)
                    ),
                    outcome: Outcome::Retry { backoff: Backoff::Exponential, not_before: retry_after },
                });
            }
            400..=499 => {
                let (code, reason) = error_answer(&answer);
                let reason = if reason.is_empty() { "no reason given".to_owned() } else { reason };
                let code = code.unwrap_or_else(|| format!("HTTP_{status}"));
                return Err(Failure {
                    error: err!(
                        MEDSEAL_TRANSPORT_REJECTED,
                        "the hub at {} refused the batch with HTTP {status} ({code}): {reason}",
                        self.target
                    ),
                    outcome: Outcome::DeadLetter { code, reason: format!("HTTP {status}: {reason}") },
                });
            }
            300..=399 => {
                let location = response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("nowhere").to_owned();
                return Err(Failure::retry(err!(
                    MEDSEAL_TRANSPORT_PROTOCOL,
                    "the hub at {} answered HTTP {status}, a redirect to {location}; medseal does not follow redirects: configure the hub URL",
                    self.target
                )));
            }
            _ => {
                return Err(Failure::retry(err!(
                    MEDSEAL_TRANSPORT_PROTOCOL,
                    "the hub at {} answered HTTP {status}, which /v1/records never does",
                    self.target
                )))
            }
        }
        let decoded = wire::SubmitResponse::decode(answer.as_slice()).map_err(|e| {
            Failure::retry(err!(
                MEDSEAL_TRANSPORT_PROTOCOL,
                "the hub's answer is not a protobuf SubmitResponse (Content-Type {content_type:?}, {} bytes): {e}",
                answer.len()
            ))
        })?;
        check_results(records, &decoded.results).map_err(Failure::retry)?;
        Ok(decoded.results)
    }

    /// Asks the hub for the RFC 9162 consistency proof from its tree of `first` leaves to its
    /// tree of `second` (`GET /v1/proofs/consistency`): what an outbox checks every new tree
    /// head with. The proof is NOT verified here (the caller holds the two roots). Failures
    /// are the transport's codes; an answer that is not a proof for exactly these sizes is
    /// `MEDSEAL_TRANSPORT_PROTOCOL`.
    pub fn consistency_proof(&self, first: u64, second: u64, now: i64) -> Result<Vec<crate::ledger::Hash>> {
        let url = format!("{}/v1/proofs/consistency?first={first}&second={second}", self.config.hub_url);
        let mut response = self.agent.get(&url).call().map_err(|e| self.classify(e, now).error)?;
        let status = response.status().as_u16();
        let answer = response.body_mut().with_config().limit(1 << 20).read_to_vec().map_err(|e| self.classify(e, now).error)?;
        if status != 200 {
            let (code, reason) = error_answer(&answer);
            return Err(err!(
                MEDSEAL_TRANSPORT_HTTP,
                "the hub at {} answered HTTP {status} ({}) to a consistency proof from {first} to {second}: {reason}",
                self.target,
                code.unwrap_or_default()
            ));
        }
        let proof = crate::ledger::consistency_proof_from_json(&answer)
            .map_err(|e| err!(MEDSEAL_TRANSPORT_PROTOCOL, "the hub's consistency proof from {first} to {second}: {}", e.message()))?;
        if (proof.first, proof.second) != (first, second) {
            return Err(err!(
                MEDSEAL_TRANSPORT_PROTOCOL,
                "the hub answered a consistency proof from {} to {} when asked from {first} to {second}",
                proof.first,
                proof.second
            ));
        }
        crate::ledger::hashes(&proof.path, "the consistency path").map_err(|e| err!(MEDSEAL_TRANSPORT_PROTOCOL, "{}", e.message()))
    }

    /// Turns a ureq error into a medseal error and what to do about it.
    fn classify(&self, e: ureq::Error, now: i64) -> Failure {
        let target = &self.target;
        match e {
            ureq::Error::Timeout(which) => {
                use ureq::Timeout as T;
                let error = match which {
                    T::Connect | T::Resolve => err!(
                        MEDSEAL_TRANSPORT_TIMEOUT,
                        "could not connect to the hub at {target} within the connect timeout of {} (is it up, or a firewall dropping packets?)",
                        show_duration(self.config.connect_timeout)
                    ),
                    _ => err!(
                        MEDSEAL_TRANSPORT_TIMEOUT,
                        "the hub at {target} did not answer within the timeout of {}; the batch will be retried (the hub's idempotency makes a repeat harmless)",
                        show_duration(self.config.timeout)
                    ),
                };
                Failure::retry(error)
            }
            ureq::Error::HostNotFound => {
                Failure::retry(err!(MEDSEAL_TRANSPORT_CONNECT, "the hub's host name in {target} could not be resolved (DNS)"))
            }
            ureq::Error::ConnectionFailed => Failure::retry(err!(MEDSEAL_TRANSPORT_CONNECT, "could not connect to the hub at {target}")),
            ureq::Error::ConnectProxyFailed(why) => {
                Failure::retry(err!(MEDSEAL_TRANSPORT_CONNECT, "the proxy did not open a tunnel to the hub ({target}): {why}"))
            }
            ureq::Error::Rustls(tls) => self.classify_tls(&tls, now),
            ureq::Error::Io(io) => {
                if let Some(tls) = io.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
                    return self.classify_tls(tls, now);
                }
                self.classify_io(&io, now)
            }
            ureq::Error::Tls(why) => Failure::at_cap(err!(MEDSEAL_TRANSPORT_TLS, "TLS to the hub at {target} could not start: {why}")),
            ureq::Error::InvalidProxyUrl | ureq::Error::RequireHttpsOnly(_) | ureq::Error::BadUri(_) => {
                Failure::at_cap(err!(MEDSEAL_TRANSPORT_CONFIG, "the transport configuration is not usable: {e}"))
            }
            ureq::Error::BodyExceedsLimit(limit) => Failure::retry(err!(
                MEDSEAL_TRANSPORT_PROTOCOL,
                "the hub's answer is larger than {limit} bytes; it is not a SubmitResponse"
            )),
            ureq::Error::BodyStalled => Failure::retry(err!(MEDSEAL_TRANSPORT_TIMEOUT, "the hub at {target} stopped sending its answer")),
            other => Failure::retry(err!(MEDSEAL_TRANSPORT_PROTOCOL, "the exchange with the hub at {target} failed: {other}")),
        }
    }

    fn classify_io(&self, io: &io::Error, now: i64) -> Failure {
        use io::ErrorKind as K;
        let target = &self.target;
        if matches!(io.kind(), K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof) {
            if let Some(failure) = self.probe_client_auth(now) {
                return failure;
            }
        }
        let error = match io.kind() {
            K::ConnectionRefused => {
                err!(MEDSEAL_TRANSPORT_CONNECT, "the hub at {target} refused the connection: is it running, on this port?")
            }
            K::UnexpectedEof => err!(
                MEDSEAL_TRANSPORT_CONNECT,
                "the connection to the hub at {target} was closed before its answer was complete; the batch will be retried"
            ),
            K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => err!(
                MEDSEAL_TRANSPORT_CONNECT,
                "the connection to the hub at {target} was closed before its answer was complete ({}); the batch will be retried",
                io_reason(io)
            ),
            K::TimedOut | K::WouldBlock => {
                err!(MEDSEAL_TRANSPORT_TIMEOUT, "the hub at {target} did not answer in time ({})", io_reason(io))
            }
            K::AddrNotAvailable | K::NetworkUnreachable | K::HostUnreachable | K::NetworkDown => {
                err!(MEDSEAL_TRANSPORT_CONNECT, "the hub at {target} cannot be reached from here ({})", io_reason(io))
            }
            _ => err!(MEDSEAL_TRANSPORT_CONNECT, "the connection to the hub at {target} failed: {}", io_reason(io)),
        };
        Failure::retry(error)
    }

    /// TLS failures: certificate problems (ours or the hub's) wait the full backoff cap, since
    /// retrying quickly will not fix them; other handshake failures retry normally.
    fn classify_tls(&self, tls: &rustls::Error, now: i64) -> Failure {
        let target = &self.target;
        let ca = match self.config.roots {
            Roots::HubCa(_) => "the pinned hub CA (hub-ca.pem)",
            Roots::Public => "any public root CA",
        };
        let cert = |message: String| Failure::at_cap(Error::new(crate::ResultCode::MEDSEAL_TRANSPORT_TLS, message));
        match tls {
            rustls::Error::InvalidCertificate(problem) => match problem {
                CertificateError::UnknownIssuer => cert(format!(
                    "the server at {target} presented a certificate that is not issued by {ca} (unknown CA): is this the hub, and is hub-ca.pem the hub's CA?"
                )),
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                    let presented = match problem {
                        CertificateError::NotValidForNameContext { presented, .. } if !presented.is_empty() => {
                            let names: Vec<&str> = presented.iter().map(|p| presented_name(p)).collect();
                            format!(" (it names {})", names.join(", "))
                        }
                        _ => String::new(),
                    };
                    cert(format!(
                        "the hub's certificate is not valid for the name {:?} in the hub URL{presented} (name mismatch): use the host name the certificate was issued for",
                        self.config.host
                    ))
                }
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    let when = match problem {
                        CertificateError::ExpiredContext { not_after, .. } => format!(" on {}", utc::show(not_after.as_secs() as i64)),
                        _ => String::new(),
                    };
                    cert(format!("the hub's certificate at {target} expired{when} (expired certificate): the hub must renew it"))
                }
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => cert(format!(
                    "the hub's certificate at {target} is not valid yet: check this machine's clock ({})",
                    utc::show(now)
                )),
                CertificateError::Revoked => cert(format!("the hub's certificate at {target} is revoked")),
                CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
                    cert(format!("the hub's certificate at {target} is not a TLS server certificate (extended key usage)"))
                }
                other => cert(format!("the hub's certificate at {target} was refused: {other:?}")),
            },
            rustls::Error::NoCertificatesPresented => cert(format!("the server at {target} presented no certificate")),
            rustls::Error::AlertReceived(alert) => match alert {
                AlertDescription::CertificateRequired => cert(format!(
                    "the hub at {target} requires a client certificate and received none it could use (client certificate refused): check client.pem and client.key"
                )),
                AlertDescription::BadCertificate
                | AlertDescription::UnsupportedCertificate
                | AlertDescription::CertificateRevoked
                | AlertDescription::CertificateExpired
                | AlertDescription::CertificateUnknown
                | AlertDescription::UnknownCA
                | AlertDescription::AccessDenied => {
                    let leaf = &self.config.client_leaf;
                    let ours = if !leaf.valid_at(now) {
                        format!(
                            "; our client certificate ({}) is valid only from {} to {}",
                            leaf.subject(),
                            utc::show(leaf.not_before()),
                            utc::show(leaf.not_after())
                        )
                    } else {
                        format!(": is {} enrolled with this hub, by this hub's CA?", leaf.subject())
                    };
                    cert(format!("the hub at {target} refused our client certificate (TLS alert {alert:?}, client certificate refused){ours}"))
                }
                other => Failure::retry(err!(MEDSEAL_TRANSPORT_TLS, "the TLS handshake with the hub at {target} failed: the hub sent the alert {other:?}")),
            },
            other => Failure::retry(err!(MEDSEAL_TRANSPORT_TLS, "TLS with the hub at {target} failed: {other}")),
        }
    }
}

impl Transport {
    /// Finds out why a connection broke right after it was made. With TLS 1.3 the hub judges
    /// our client certificate only after the handshake, and its refusal (an alert) is often
    /// lost: the request is written into a connection the hub has already closed, and the
    /// write fails with "broken pipe" before the alert is read. So after such a failure, one
    /// more handshake is made (no request is sent) and the hub's first word read: an alert
    /// names the certificate problem. `None` if nothing more is learnt (within the connect
    /// timeout, at most 3 s).
    fn probe_client_auth(&self, now: i64) -> Option<Failure> {
        use std::net::{TcpStream, ToSocketAddrs};
        use std::time::Instant;
        let (config, port) = self.probe.as_ref()?;
        let wait = self.config.connect_timeout.min(Duration::from_secs(3));
        let deadline = Instant::now() + wait;
        let addr = (self.config.host.as_str(), *port).to_socket_addrs().ok()?.next()?;
        let mut tcp = TcpStream::connect_timeout(&addr, wait).ok()?;
        let name = rustls::pki_types::ServerName::try_from(self.config.host.clone()).ok()?;
        let mut conn = rustls::ClientConnection::new(config.clone(), name).ok()?;
        let tls_failure =
            |e: &io::Error| e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()).map(|tls| self.classify_tls(tls, now));
        loop {
            let left = deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero())?;
            tcp.set_read_timeout(Some(left)).ok()?;
            tcp.set_write_timeout(Some(left)).ok()?;
            if !conn.is_handshaking() && !conn.wants_write() {
                // TLS 1.2 judged our certificate within the handshake: it was accepted.
                if conn.protocol_version() != Some(rustls::ProtocolVersion::TLSv1_3) {
                    return None;
                }
                // TLS 1.3: the hub's first word after the handshake is its verdict (a session
                // ticket: accepted; an alert: refused).
                return match conn.read_tls(&mut tcp) {
                    Ok(0) | Err(_) => None,
                    Ok(_) => conn.process_new_packets().err().map(|e| self.classify_tls(&e, now)),
                };
            }
            if let Err(e) = conn.complete_io(&mut tcp) {
                return tls_failure(&e);
            }
        }
    }
}

/// A name rustls reports a certificate presents, without its wrapper: `DnsName("a.b")` → `a.b`.
fn presented_name(text: &str) -> &str {
    match (text.find('('), text.rfind(')')) {
        (Some(open), Some(close)) if open < close => text[open + 1..close].trim_matches('"'),
        _ => text,
    }
}

/// Checks the client certificate and key belong together and makes the rustls client
/// configuration every connection uses: TLS 1.3 and 1.2, the pinned hub CA (or the public
/// roots), the client certificate with its key (a file's, or a token's through
/// [`TokenTlsKey`]).
fn check_client_identity(config: &TransportConfig, provider: &Arc<rustls::crypto::CryptoProvider>) -> Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    match &config.roots {
        Roots::HubCa(certs) => {
            for der in certs {
                roots
                    .add(CertificateDer::from(der.clone()))
                    .map_err(|e| err!(MEDSEAL_TRANSPORT_CONFIG, "the hub CA cannot be used: {e}"))?;
            }
        }
        Roots::Public => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let chain: Vec<CertificateDer<'static>> = config.client_chain.iter().map(|der| CertificateDer::from(der.clone())).collect();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| err!(MEDSEAL_TRANSPORT_CONFIG, "TLS 1.2 and 1.3 are not available: {e}"))?
        .with_root_certificates(roots);
    let subject = config.client_leaf.subject();
    match &config.client_key {
        ClientKey::Der { .. } => {
            let key = config.client_key.as_rustls().map(|k| k.clone_key());
            let key = key.ok_or_else(|| err!(MEDSEAL_TRANSPORT_CONFIG, "the client key is not in DER"))?;
            builder.with_client_auth_cert(chain, key).map_err(|e| match e {
                rustls::Error::InconsistentKeys(_) => {
                    err!(MEDSEAL_TRANSPORT_CONFIG, "the client key does not belong to the client certificate ({subject})")
                }
                other => err!(MEDSEAL_TRANSPORT_CONFIG, "the client certificate and key cannot be used for TLS: {other}"),
            })
        }
        ClientKey::Token(key) => {
            // The same rule as for a key file: the certificate must hold the token's public key.
            let holds = config.client_leaf.spki_der().ok().and_then(|spki| Key::import(&spki, None).ok());
            if holds.map(|k| k.kid().to_owned()).as_deref() != Some(key.public_key().kid()) {
                return Err(err!(
                    MEDSEAL_TRANSPORT_CONFIG,
                    "the client key '{}' on token '{}' does not belong to the client certificate ({subject}): the certificate holds another public key",
                    key.key_label(),
                    key.token_label()
                ));
            }
            let certified = rustls::sign::CertifiedKey::new(chain, Arc::new(TokenTlsKey::new(key.clone())?));
            certified.keys_match().map_err(|e| {
                err!(MEDSEAL_TRANSPORT_CONFIG, "the client key on the token does not belong to the client certificate ({subject}): {e}")
            })?;
            Ok(builder.with_client_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(certified))))
        }
    }
}

/// The proxy URL to use for `host`, if any.
fn resolve_proxy(setting: &ProxySetting, host: &str) -> Result<Option<String>> {
    match setting {
        ProxySetting::Direct => Ok(None),
        ProxySetting::Url(url) => Ok(Some(url.clone())),
        ProxySetting::FromEnv => {
            let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
            let no_proxy = var("NO_PROXY").or_else(|| var("no_proxy")).unwrap_or_default();
            if no_proxy_matches(&no_proxy, host) {
                return Ok(None);
            }
            for name in ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"] {
                if let Some(url) = var(name) {
                    let url = url.trim().to_owned();
                    // A bare host:port means an HTTP proxy, as curl reads it.
                    let url = if url.contains("://") { url } else { format!("http://{url}") };
                    check_proxy_url(&url, &format!("the proxy in {name},"))?;
                    return Ok(Some(url));
                }
            }
            Ok(None)
        }
    }
}

/// Whether `NO_PROXY` exempts `host`: `*`; an exact name or address; `.suffix` or `*.suffix`
/// for subdomains; a bare domain for itself and its subdomains. Ports in entries are ignored.
pub(crate) fn no_proxy_matches(no_proxy: &str, host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    no_proxy.split([',', ' ']).map(str::trim).filter(|e| !e.is_empty()).any(|entry| {
        if entry == "*" {
            return true;
        }
        let entry = entry.trim_start_matches('[');
        // Drop a port (but not the colons of an IPv6 address).
        let entry = match entry.split_once("]:") {
            Some((h, _)) => h,
            None if entry.matches(':').count() == 1 => entry.split(':').next().unwrap_or(entry),
            None => entry.trim_end_matches(']'),
        };
        let entry = entry.trim_end_matches('.').to_ascii_lowercase();
        let suffix = entry.trim_start_matches('*').trim_start_matches('.');
        if suffix.is_empty() {
            return false;
        }
        host == suffix || host.ends_with(&format!(".{suffix}"))
    })
}

/// `Idempotency-Key`: base64url SHA-256 of the batch's record ids joined by `\n`.
pub(crate) fn idempotency_key<'a>(ids: impl Iterator<Item = &'a str>) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for (i, id) in ids.enumerate() {
        if i > 0 {
            ctx.update(b"\n");
        }
        ctx.update(id.as_bytes());
    }
    crate::b64::encode(ctx.finish().as_ref())
}

/// A claimed record in wire form.
pub(crate) fn submitted(record: &crate::outbox::Claimed) -> wire::SubmittedRecord {
    wire::SubmittedRecord { record_id: record.record_id.clone(), envelope: record.envelope.clone(), digest: record.digest.to_vec() }
}

/// The results must answer the batch: one per record, same ids, same order, a known status.
fn check_results(records: &[wire::SubmittedRecord], results: &[wire::RecordResult]) -> Result<()> {
    if results.len() != records.len() {
        return Err(err!(
            MEDSEAL_TRANSPORT_PROTOCOL,
            "the hub answered {} results for a batch of {} records; no record is marked, all will be retried",
            results.len(),
            records.len()
        ));
    }
    for (i, (record, result)) in records.iter().zip(results).enumerate() {
        if result.record_id != record.record_id {
            return Err(err!(
                MEDSEAL_TRANSPORT_PROTOCOL,
                "the hub's result {i} is for record {:?}, but record {:?} was sent there; no record is marked, all will be retried",
                result.record_id,
                record.record_id
            ));
        }
        if wire::RecordStatus::try_from(result.status).map_or(true, |s| s == wire::RecordStatus::Unspecified) {
            return Err(err!(
                MEDSEAL_TRANSPORT_PROTOCOL,
                "the hub's result for record {:?} has no known status ({}); no record is marked, all will be retried",
                result.record_id,
                result.status
            ));
        }
    }
    Ok(())
}

/// The stable code and the reason in an error answer: a JSON object's `code`, and its
/// `reason`/`message`/`error`/`detail` string (the hub answers `{code, reason}`), else the text;
/// made safe for messages ([`untrusted::shown_max`]), at most 500 characters.
fn error_answer(body: &[u8]) -> (Option<String>, String) {
    let text = String::from_utf8_lossy(&body[..body.len().min(64 * 1024)]);
    let trimmed = text.trim();
    let (code, picked) = match json_object(trimmed) {
        Some((code, reason)) => (code, reason.unwrap_or_else(|| trimmed.to_owned())),
        None => (None, trimmed.to_owned()),
    };
    (code.map(|c| untrusted::shown(&c)), untrusted::shown_max(&picked, MAX_REASON_CHARS))
}

/// The reason alone (see [`error_answer`]).
fn reason_text(body: &[u8]) -> String {
    error_answer(body).1
}

/// A JSON object's `code` and first of `reason`, `message`, `error`, `detail` that is a string.
fn json_object(text: &str) -> Option<(Option<String>, Option<String>)> {
    if !text.starts_with('{') {
        return None;
    }
    let value = crate::canon::parse(text.as_bytes(), &crate::canon::CanonOptions::plain()).ok()?;
    let string = |k: &str| value.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let code = string("code").filter(|c| !c.is_empty() && c.len() <= 64 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
    Some((code, ["reason", "message", "error", "detail"].iter().find_map(|k| string(k))))
}

fn with_reason(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(" ({reason})")
    }
}

fn show_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

fn io_reason(e: &io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => text[..at].to_owned(),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_proxy_entries() {
        assert!(no_proxy_matches("*", "hub.example"));
        assert!(no_proxy_matches("localhost, 127.0.0.1", "127.0.0.1"));
        assert!(no_proxy_matches("example.org,.example", "hub.example"));
        assert!(no_proxy_matches("*.example", "a.hub.example"));
        assert!(no_proxy_matches("hub.example", "hub.example"));
        assert!(no_proxy_matches("example:8443", "hub.example"));
        assert!(no_proxy_matches("[::1]:8443", "::1"));
        assert!(no_proxy_matches("::1", "::1"));
        assert!(!no_proxy_matches("ub.example", "hub.example"));
        assert!(!no_proxy_matches("", "hub.example"));
        assert!(!no_proxy_matches(".", "hub.example"));
        assert!(!no_proxy_matches("other.example", "hub.example"));
    }

    #[test]
    fn idempotency_key_is_sha256_of_ids() {
        let key = idempotency_key(["a", "b"].into_iter());
        let digest = ring::digest::digest(&ring::digest::SHA256, b"a\nb");
        assert_eq!(key, crate::b64::encode(digest.as_ref()));
        assert_eq!(key.len(), 43);
    }

    #[test]
    fn reasons_are_clean_and_short() {
        assert_eq!(reason_text(b"  bad\r\nthing "), "bad\\r\\nthing");
        assert_eq!(reason_text("no\u{202E}fdp".as_bytes()), "no\\u{202e}fdp");
        assert_eq!(reason_text(br#"{"code":"X","reason":"too big"}"#), "too big");
        assert_eq!(reason_text(br#"{"error":"nope"}"#), "nope");
        assert_eq!(reason_text(br#"{"other":1}"#), r#"{"other":1}"#);
        assert_eq!(reason_text(&[b'x'; 2000]).chars().count(), MAX_REASON_CHARS + 1);
        assert_eq!(error_answer(br#"{"code":"NOT_ENROLLED","reason":"who?"}"#), (Some("NOT_ENROLLED".into()), "who?".into()));
        assert_eq!(error_answer(br#"{"code":"bad code!","reason":"r"}"#), (None, "r".into()));
        assert_eq!(error_answer(b"plain"), (None, "plain".into()));
    }
}
