//! Serving: TLS with client certificates (rustls on ring), one HTTP connection per TLS
//! stream (hyper, HTTP/1.1 and HTTP/2), graceful shutdown, and [`HubHandle`] for tests and the
//! CLI.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use medseal::untrusted::shown;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::error::{Error, Result};
use crate::files::HubPaths;
use crate::http::{self, Peer};
use crate::hub::Hub;
use crate::limits::{Full, Limits};

/// How long a client has to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Most HTTP/2 streams open at once on one connection.
const MAX_STREAMS: u32 = 32;
/// How long shutdown waits for requests in progress.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// The hub's TLS configuration: TLS 1.3 and 1.2, the server certificate, and client
/// certificates required and checked against the hub CA (webpki, clientAuth).
/// `revoked` answers whether a client certificate (by its SHA-256 fingerprint) is revoked now:
/// such a certificate fails the handshake with the `certificate_revoked` alert.
pub fn tls_config(paths: &HubPaths, revoked: Arc<dyn Fn(&str) -> bool + Send + Sync>) -> Result<ServerConfig> {
    let pem_error = |path: &Path, e: rustls_pki_types::pem::Error| Error::new(format!("{}: {e}", path.display()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(paths.server_cert())
        .and_then(|certs| certs.collect::<std::result::Result<_, _>>())
        .map_err(|e| pem_error(&paths.server_cert(), e))?;
    let key = PrivateKeyDer::from_pem_file(paths.server_key()).map_err(|e| pem_error(&paths.server_key(), e))?;
    let ca = CertificateDer::from_pem_file(paths.ca_cert()).map_err(|e| pem_error(&paths.ca_cert(), e))?;
    let mut roots = RootCertStore::empty();
    roots.add(ca)?;
    let webpki = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| Error::new(format!("the client certificate verifier: {e}")))?;
    let verifier = Arc::new(RevocationCheck { webpki, revoked });
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// A hub running on its own thread (with its own tokio runtime). Dropping it shuts it down.
#[derive(Debug)]
pub struct HubHandle {
    addr: SocketAddr,
    url: String,
    shutdown: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<Result<()>>>,
}

impl HubHandle {
    /// The address the hub listens on (with the real port when started on port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://127.0.0.1:PORT` (the server certificate names 127.0.0.1).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Stops accepting connections, lets requests in progress finish (up to 30 s), and waits
    /// for the server thread.
    pub fn shutdown(mut self) -> Result<()> {
        self.stop()
    }

    /// Whether the server thread has ended (after shutdown, or on a fatal error).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().map_or(true, |t| t.is_finished())
    }

    fn stop(&mut self) -> Result<()> {
        let _ = self.shutdown.send(true);
        match self.thread.take() {
            Some(thread) => thread.join().unwrap_or_else(|_| Err(Error::new("the hub's server thread panicked"))),
            None => Ok(()),
        }
    }
}

impl Drop for HubHandle {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            eprintln!("medseal-hub: {e}");
        }
    }
}

/// Starts the hub in `dir` listening on `addr` (port 0 picks a free port) and returns once
/// it accepts connections. Errors in the configuration, keys or database come back here.
pub fn start(dir: &Path, addr: SocketAddr) -> Result<HubHandle> {
    let hub = Arc::new(Hub::open(dir)?);
    let revocations = hub.clone();
    let tls = Arc::new(tls_config(hub.paths(), Arc::new(move |fingerprint: &str| revocations.certificate_revoked(fingerprint)))?);
    let listener = std::net::TcpListener::bind(addr).map_err(|e| Error::new(format!("cannot listen on {addr}: {e}")))?;
    listener.set_nonblocking(true).map_err(|e| Error::new(format!("cannot listen on {addr}: {e}")))?;
    let local = listener.local_addr().map_err(|e| Error::new(format!("cannot listen on {addr}: {e}")))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("medseal-hub-worker")
        .enable_all()
        .build()
        .map_err(|e| Error::new(format!("cannot start the hub's runtime: {e}")))?;
    let (shutdown, signal) = watch::channel(false);
    let thread = std::thread::Builder::new()
        .name("medseal-hub".to_owned())
        .spawn(move || {
            let result = runtime.block_on(async move {
                let listener = TcpListener::from_std(listener).map_err(|e| Error::new(format!("cannot listen: {e}")))?;
                serve(listener, hub, tls, signal).await;
                Ok(())
            });
            // Blocking work still running (a batch being committed) ends before the thread does.
            runtime.shutdown_timeout(SHUTDOWN_GRACE);
            result
        })
        .map_err(|e| Error::new(format!("cannot start the hub's thread: {e}")))?;
    let host = match local.ip() {
        ip if ip.is_unspecified() => "127.0.0.1".to_owned(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    Ok(HubHandle { addr: local, url: format!("https://{host}:{}", local.port()), shutdown, thread: Some(thread) })
}

/// Accepts connections until `shutdown` turns true, then drains them. Each connection is
/// counted (handshakes in progress, then per facility and in total) and closed when it has had
/// no request in progress for the idle timeout (docs/SUBMISSION.md, "Limits and timeouts").
async fn serve(listener: TcpListener, hub: Arc<Hub>, tls: Arc<ServerConfig>, shutdown: watch::Receiver<bool>) {
    let limits = Limits::new(hub.config().limits.clone());
    let idle_timeout = Duration::from_secs(limits.config().idle_timeout_secs);
    let app = http::router(hub.clone());
    let acceptor = TlsAcceptor::from(tls);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // Clients that send their headers too slowly are dropped.
    builder.http1().timer(TokioTimer::new()).header_read_timeout(Duration::from_secs(limits.config().header_timeout_secs));
    builder.http2().timer(TokioTimer::new()).max_concurrent_streams(MAX_STREAMS);
    // Above the router's own limit (http::MAX_HEADER_BYTES), so that the router answers, with
    // a body (16 KiB, hyper's default, stated here so that it stays above).
    builder.http2().max_header_list_size(2 * http::MAX_HEADER_BYTES as u32);
    // Every connection's task holds a sender: when all are dropped, the connections are drained.
    let (alive, mut drained) = mpsc::channel::<()>(1);
    let mut stop = shutdown.clone();
    loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little, go on.
                    eprintln!("medseal-hub: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = stop.wait_for(|stop| *stop) => break,
        };
        let Ok(handshake) = limits.handshake() else {
            eprintln!("medseal-hub: connection from {remote} closed: {} TLS handshakes in progress", limits.config().max_handshakes);
            continue;
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        let hub = hub.clone();
        let builder = builder.clone();
        let limits = limits.clone();
        let alive = alive.clone();
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            let _alive = alive;
            let mut stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => {
                    eprintln!("medseal-hub: TLS handshake with {remote} failed: {e}");
                    return;
                }
                Err(_) => {
                    eprintln!("medseal-hub: TLS handshake with {remote} timed out");
                    return;
                }
            };
            drop(handshake);
            let connection = stream.get_ref().1;
            let fingerprint =
                connection.peer_certificates().and_then(|c| c.first()).map(|c| crate::pki::fingerprint(c)).unwrap_or_default();
            let peer = Peer { facility: facility_of(connection), fingerprint };
            // Connections without a single CN share the facility "" (they can only read).
            let _connection_slot = match limits.connection(peer.facility.as_deref().unwrap_or("")) {
                Ok(slot) => slot,
                Err(full) => {
                    let (limit, whose) = match full {
                        Full::Facility => (limits.config().max_connections_per_facility, "of this facility"),
                        Full::Total => (limits.config().max_connections, "in total"),
                    };
                    eprintln!(
                        "medseal-hub: connection from {} ({remote}) closed: {limit} connections {whose} already open",
                        shown(peer.facility.as_deref().unwrap_or("?"))
                    );
                    let _ = tokio::time::timeout(Duration::from_secs(1), stream.shutdown()).await;
                    return;
                }
            };
            let activity = Activity::new();
            let service = {
                let activity = activity.clone();
                hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                    // A certificate revoked while its connection is open gets no more answers.
                    let refused = http::revoked(&hub, &peer);
                    request.extensions_mut().insert(peer.clone());
                    request.extensions_mut().insert(limits.clone());
                    let busy = activity.begin();
                    let app = app.clone();
                    async move {
                        let answer = match refused {
                            Some(response) => Ok(response),
                            None => app.oneshot(request).await,
                        };
                        drop(busy);
                        answer
                    }
                })
            };
            let connection = builder.serve_connection(TokioIo::new(http::ErrorBodies::new(stream)), service).into_owned();
            tokio::pin!(connection);
            let mut closing = false;
            loop {
                tokio::select! {
                    // A connection error (client went away) concerns that client only.
                    _ = connection.as_mut() => break,
                    () = activity.idle(idle_timeout), if !closing => {
                        connection.as_mut().graceful_shutdown();
                        closing = true;
                    }
                    _ = shutdown.wait_for(|stop| *stop), if !closing => {
                        connection.as_mut().graceful_shutdown();
                        closing = true;
                    }
                }
            }
        });
    }
    drop(listener);
    drop(alive);
    tokio::select! {
        _ = drained.recv() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => eprintln!("medseal-hub: connections still open after {} s; closing", SHUTDOWN_GRACE.as_secs()),
    }
}

/// The requests in progress on one connection, and when the last one ended.
#[derive(Debug)]
struct Activity {
    state: std::sync::Mutex<(usize, Instant)>,
}

/// One request in progress; ends on drop.
struct Busy(Arc<Activity>);

impl Activity {
    fn new() -> Arc<Activity> {
        Arc::new(Activity { state: std::sync::Mutex::new((0, Instant::now())) })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, (usize, Instant)> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn begin(self: &Arc<Self>) -> Busy {
        self.state().0 += 1;
        Busy(self.clone())
    }

    /// Returns once no request has been in progress for `timeout`.
    async fn idle(&self, timeout: Duration) {
        loop {
            let (active, last) = *self.state();
            if active > 0 {
                tokio::time::sleep(timeout).await;
                continue;
            }
            let deadline = last + timeout;
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline).await;
        }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let mut state = self.0.state();
        state.0 -= 1;
        state.1 = Instant::now();
    }
}

/// The hub CA's checks (webpki, clientAuth), then the hub's own revocations: a certificate
/// `medseal hub revoke` revoked is refused during the handshake, before any request.
struct RevocationCheck {
    webpki: Arc<dyn ClientCertVerifier>,
    revoked: Arc<dyn Fn(&str) -> bool + Send + Sync>,
}

impl std::fmt::Debug for RevocationCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevocationCheck").finish_non_exhaustive()
    }
}

impl ClientCertVerifier for RevocationCheck {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.webpki.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> std::result::Result<ClientCertVerified, rustls::Error> {
        let verified = self.webpki.verify_client_cert(end_entity, intermediates, now)?;
        if (self.revoked)(&crate::pki::fingerprint(end_entity)) {
            return Err(rustls::Error::InvalidCertificate(rustls::CertificateError::Revoked));
        }
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// The facility a client certificate names: its subject's CN, when there is exactly one.
fn facility_of(connection: &rustls::ServerConnection) -> Option<String> {
    let certificate = connection.peer_certificates()?.first()?;
    let (_, parsed) = x509_parser::parse_x509_certificate(certificate.as_ref()).ok()?;
    let mut names = parsed.subject().iter_common_name();
    let name = names.next()?.as_str().ok()?.to_owned();
    names.next().is_none().then_some(name)
}

/// Blocks until SIGTERM or ctrl-c (SIGINT).
pub fn wait_for_shutdown_signal() -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::new(format!("cannot wait for signals: {e}")))?;
    runtime.block_on(async {
        #[cfg(unix)]
        {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .map_err(|e| Error::new(format!("cannot wait for SIGTERM: {e}")))?;
            tokio::select! {
                _ = term.recv() => Ok(()),
                r = tokio::signal::ctrl_c() => r.map_err(|e| Error::new(format!("cannot wait for ctrl-c: {e}"))),
            }
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await.map_err(|e| Error::new(format!("cannot wait for ctrl-c: {e}")))
        }
    })
}
