//! What the transport needs to know: where the hub is, who we are (client certificate and key),
//! whom we trust (the hub's CA, pinned by default), how to get there (proxy), how long to wait,
//! and the hub's public keys that receipts and tree heads must verify with.
//!
//! There is no switch that turns TLS verification off, and no plain HTTP: the hub URL must be
//! `https://`, and the server certificate is always verified (against the pinned hub CA, or the
//! public web roots when asked for explicitly).

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{err, Result};
use crate::jws::Verifier;
use crate::keys::Key;
use crate::signers::{Pkcs11Config, Pkcs11Key};
use crate::x509::Certificate;

/// Records per batch unless configured otherwise.
pub(crate) const DEFAULT_BATCH_SIZE: usize = 100;
/// Most records one batch may hold (submission.proto: at most 1000 records per batch).
pub(crate) const MAX_BATCH_SIZE: usize = 1000;
/// Connect timeout unless configured otherwise (TCP, proxy CONNECT and TLS handshake).
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Total timeout of one submission unless configured otherwise (connect, send, answer). Keep it
/// well below the outbox lease (60 s by default), so a claimed record is never delivered twice
/// at once.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Largest PEM or key file the configuration reads (certificates and keys are a few KB).
const MAX_PEM_BYTES: usize = 1 << 20;

/// The kind of DER a client private key is in (what its PEM label said).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Pkcs8,
    Pkcs1,
    Sec1,
}

/// The client's private key: DER in a buffer wiped on drop, or a key on a PKCS#11 token.
/// `Debug` shows only its kind (and a token key's labels).
#[derive(Clone)]
pub(crate) enum ClientKey {
    Der { kind: KeyKind, der: Zeroizing<Vec<u8>> },
    Token(Arc<Pkcs11Key>),
}

impl ClientKey {
    /// A rustls view of a key in DER (borrowing the zeroized buffer: no copy); `None` for a
    /// token key.
    pub(crate) fn as_rustls(&self) -> Option<PrivateKeyDer<'_>> {
        match self {
            ClientKey::Der { kind, der } => Some(match kind {
                KeyKind::Pkcs8 => PrivateKeyDer::Pkcs8(der.as_slice().into()),
                KeyKind::Pkcs1 => PrivateKeyDer::Pkcs1(der.as_slice().into()),
                KeyKind::Sec1 => PrivateKeyDer::Sec1(der.as_slice().into()),
            }),
            ClientKey::Token(_) => None,
        }
    }
}

impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientKey::Der { kind, .. } => write!(f, "ClientKey({kind:?})"),
            ClientKey::Token(key) => write!(f, "ClientKey(token '{}', key '{}')", key.token_label(), key.key_label()),
        }
    }
}

/// Which roots the hub's server certificate must chain to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Roots {
    /// The hub's own CA (PEM, one or more certificates): pinned. The default, and the pilot's
    /// setup (`hub-ca.pem` in the facility directory).
    HubCa(Vec<Vec<u8>>),
    /// The public web roots (Mozilla's list, compiled in): for a hub behind a certificate from
    /// a public CA. Must be asked for explicitly.
    Public,
}

/// How to reach the hub.
#[derive(Clone, PartialEq, Eq)]
pub enum ProxySetting {
    /// Connect directly.
    Direct,
    /// Through this HTTP CONNECT proxy (`http://[user:password@]host:port`).
    Url(String),
    /// As the environment says when the transport is made: `HTTPS_PROXY`, `https_proxy`,
    /// `ALL_PROXY`, `all_proxy` (first set wins), except for hosts matched by `NO_PROXY` /
    /// `no_proxy` (`*`, exact names, `.suffix`, `*.suffix`, or a domain and its subdomains).
    FromEnv,
}

impl fmt::Debug for ProxySetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxySetting::Direct => f.write_str("Direct"),
            // The URL may hold a password.
            ProxySetting::Url(url) => write!(f, "Url({})", redact_userinfo(url)),
            ProxySetting::FromEnv => f.write_str("FromEnv"),
        }
    }
}

/// A URL with any `user:password@` replaced by `***@`, for messages.
pub(crate) fn redact_userinfo(url: &str) -> String {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let authority_end = url[after_scheme..].find(['/', '?', '#']).map_or(url.len(), |i| after_scheme + i);
    match url[after_scheme..authority_end].rfind('@') {
        Some(at) => format!("{}***@{}", &url[..after_scheme], &url[after_scheme + at + 1..]),
        None => url.to_owned(),
    }
}

/// A checked transport configuration: made by [`TransportConfigBuilder::build`], used by
/// [`Transport::new`](super::Transport::new).
#[derive(Clone, Debug)]
pub struct TransportConfig {
    pub(crate) hub_url: String,
    pub(crate) host: String,
    pub(crate) client_chain: Vec<Vec<u8>>,
    pub(crate) client_leaf: Certificate,
    pub(crate) client_key: ClientKey,
    pub(crate) roots: Roots,
    pub(crate) proxy: ProxySetting,
    pub(crate) connect_timeout: Duration,
    pub(crate) timeout: Duration,
    pub(crate) batch_size: usize,
    pub(crate) receipt_keys: Verifier,
    pub(crate) tree_head_keys: Verifier,
}

impl TransportConfig {
    /// Starts a configuration for the hub at `hub_url` (see [`TransportConfigBuilder::new`]).
    pub fn builder(hub_url: &str) -> Result<TransportConfigBuilder> {
        TransportConfigBuilder::new(hub_url)
    }

    /// The hub's base URL, as given (without a trailing slash).
    pub fn hub_url(&self) -> &str {
        &self.hub_url
    }

    /// The client certificate's subject (its CN is the facility id).
    pub fn client_subject(&self) -> String {
        self.client_leaf.subject()
    }

    /// Which roots the hub's certificate must chain to.
    pub fn roots(&self) -> &Roots {
        &self.roots
    }

    /// The proxy setting.
    pub fn proxy(&self) -> &ProxySetting {
        &self.proxy
    }

    /// Connect timeout (TCP, proxy and TLS handshake).
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// Total timeout of one submission.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Records per batch.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// The keys receipts must verify with.
    pub fn receipt_keys(&self) -> &Verifier {
        &self.receipt_keys
    }

    /// The keys signed tree heads must verify with.
    pub fn tree_head_keys(&self) -> &Verifier {
        &self.tree_head_keys
    }
}

/// Collects a [`TransportConfig`]. Setters that read bytes check them at once, so an error
/// comes from the call that caused it; [`build`](Self::build) checks that nothing required is
/// missing.
#[derive(Clone, Debug)]
pub struct TransportConfigBuilder {
    hub_url: String,
    host: String,
    client_chain: Option<(Vec<Vec<u8>>, Certificate)>,
    client_key: Option<ClientKey>,
    hub_ca: Option<Vec<Vec<u8>>>,
    public_roots: bool,
    proxy: ProxySetting,
    connect_timeout: Duration,
    timeout: Duration,
    batch_size: usize,
    receipt_keys: Option<Verifier>,
    tree_head_keys: Option<Verifier>,
}

impl TransportConfigBuilder {
    /// Starts a configuration for the hub at `hub_url`: `https://host[:port][/base/path]`.
    /// Records are posted to `<hub_url>/v1/records`. Plain `http://` is refused: medseal never
    /// sends records without TLS, and never without verifying the hub's certificate.
    pub fn new(hub_url: &str) -> Result<TransportConfigBuilder> {
        let (hub_url, host) = check_hub_url(hub_url)?;
        Ok(TransportConfigBuilder {
            hub_url,
            host,
            client_chain: None,
            client_key: None,
            hub_ca: None,
            public_roots: false,
            proxy: ProxySetting::Direct,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            batch_size: DEFAULT_BATCH_SIZE,
            receipt_keys: None,
            tree_head_keys: None,
        })
    }

    /// The client certificate chain, PEM (`CERTIFICATE` blocks, the facility's certificate
    /// first). Its subject CN names the facility; the hub checks it against each record's
    /// source.
    pub fn client_certificate_pem(&mut self, pem: &[u8]) -> Result<&mut Self> {
        let chain = read_certificates(pem, "the client certificate")?;
        let leaf = Certificate::from_der(&chain[0])
            .map_err(|e| err!(MEDSEAL_TRANSPORT_CONFIG, "the client certificate cannot be read: {}", e.message()))?;
        self.client_chain = Some((chain, leaf));
        Ok(self)
    }

    /// The client private key, PEM (`PRIVATE KEY`, `RSA PRIVATE KEY` or `EC PRIVATE KEY`;
    /// not encrypted). Copied into a buffer that is wiped when the configuration and the
    /// transport are dropped.
    pub fn client_key_pem(&mut self, pem: &[u8]) -> Result<&mut Self> {
        self.client_key = Some(read_client_key(pem)?);
        Ok(self)
    }

    /// The client private key on a PKCS#11 token: opens the key (module, token label, key
    /// label, PIN, as for a PKCS#11 signer: [`Pkcs11Key::open`], with its error codes), so a
    /// wrong PIN or a missing key is reported here. The TLS handshake then signs on the token
    /// (P-256, or RSA with RSA-PSS); the private key never leaves it. Replaces a key set
    /// before. `config.alg` is ignored: TLS chooses the scheme.
    pub fn client_key_pkcs11(&mut self, config: &Pkcs11Config) -> Result<&mut Self> {
        let config = Pkcs11Config { alg: None, ..config.clone() };
        Ok(self.client_key_token(Arc::new(Pkcs11Key::open(&config)?)))
    }

    /// The client private key on a PKCS#11 token, already opened (the host may hold the key
    /// for other uses; it must not be one of the facility's record-signing keys). Replaces a
    /// key set before.
    pub fn client_key_token(&mut self, key: Arc<Pkcs11Key>) -> &mut Self {
        self.client_key = Some(ClientKey::Token(key));
        self
    }

    /// The hub's CA certificate(s), PEM: the hub's server certificate must chain to one of them
    /// (pinned). Replaces any CA set before.
    pub fn hub_ca_pem(&mut self, pem: &[u8]) -> Result<&mut Self> {
        let certs = read_certificates(pem, "the hub CA")?;
        let mut store = rustls::RootCertStore::empty();
        for der in &certs {
            store
                .add(CertificateDer::from(der.as_slice()))
                .map_err(|e| err!(MEDSEAL_TRANSPORT_CONFIG, "the hub CA certificate cannot be used as a trust anchor: {e}"))?;
        }
        self.hub_ca = Some(certs);
        Ok(self)
    }

    /// Trusts the public web roots (Mozilla's list) for the hub's certificate instead of a
    /// pinned hub CA. Off by default; cannot be combined with [`hub_ca_pem`](Self::hub_ca_pem).
    pub fn public_roots(&mut self, on: bool) -> &mut Self {
        self.public_roots = on;
        self
    }

    /// Goes through this HTTP CONNECT proxy: `http://[user:password@]host[:port]` (port 80 by
    /// default). Overrides [`proxy_from_env`](Self::proxy_from_env).
    pub fn proxy(&mut self, url: &str) -> Result<&mut Self> {
        check_proxy_url(url, "the proxy URL")?;
        self.proxy = ProxySetting::Url(url.to_owned());
        Ok(self)
    }

    /// Takes the proxy from the environment (`HTTPS_PROXY`, `https_proxy`, `ALL_PROXY`,
    /// `all_proxy`, honouring `NO_PROXY`/`no_proxy`) when the transport is made. Off by
    /// default; `false` goes back to a direct connection.
    pub fn proxy_from_env(&mut self, on: bool) -> &mut Self {
        self.proxy = if on { ProxySetting::FromEnv } else { ProxySetting::Direct };
        self
    }

    /// The connect timeout: TCP connect, proxy CONNECT and TLS handshake (default 10 s).
    pub fn connect_timeout(&mut self, timeout: Duration) -> Result<&mut Self> {
        self.connect_timeout = check_timeout(timeout, "connect timeout")?;
        Ok(self)
    }

    /// The total timeout of one submission, connect included (default 30 s). Keep it below the
    /// outbox lease.
    pub fn timeout(&mut self, timeout: Duration) -> Result<&mut Self> {
        self.timeout = check_timeout(timeout, "timeout")?;
        Ok(self)
    }

    /// Records per batch, 1 to 1000 (default 100).
    pub fn batch_size(&mut self, records: usize) -> Result<&mut Self> {
        if !(1..=MAX_BATCH_SIZE).contains(&records) {
            return Err(err!(MEDSEAL_TRANSPORT_CONFIG, "a batch holds 1 to {MAX_BATCH_SIZE} records, not {records}"));
        }
        self.batch_size = records;
        Ok(self)
    }

    /// The hub's receipt key (public): receipts must verify with it before a record is marked
    /// delivered. Replaces any receipt keys set before.
    pub fn receipt_key(&mut self, key: Arc<Key>) -> &mut Self {
        self.receipt_keys = Some(Verifier::new(vec![key]));
        self
    }

    /// Several receipt keys at once (during a key rollover).
    pub fn receipt_keys(&mut self, keys: Verifier) -> &mut Self {
        self.receipt_keys = Some(keys);
        self
    }

    /// The hub's tree-head key (public): the signed tree head of every inclusion proof must
    /// verify with it. Replaces any tree-head keys set before.
    pub fn tree_head_key(&mut self, key: Arc<Key>) -> &mut Self {
        self.tree_head_keys = Some(Verifier::new(vec![key]));
        self
    }

    /// Several tree-head keys at once (during a key rollover).
    pub fn tree_head_keys(&mut self, keys: Verifier) -> &mut Self {
        self.tree_head_keys = Some(keys);
        self
    }

    /// Reads a facility directory: `client.key` (the TLS client key the hospital made,
    /// `medseal facility init`) and what `medseal hub enroll` wrote beside it: `client.pem`
    /// (client certificate chain), `hub-ca.pem` (the hub's CA), `receipt.pub` and
    /// `tree-head.pub` (the hub's receipt and tree-head keys). When the client key is on a
    /// token, set it first ([`client_key_pkcs11`](Self::client_key_pkcs11)): then there is no
    /// `client.key` to read, and a file of that name is refused (which key would be meant?).
    pub fn facility_dir(&mut self, dir: &Path) -> Result<&mut Self> {
        let read = |name: &str| -> Result<Zeroizing<Vec<u8>>> {
            let path = dir.join(name);
            let bytes = std::fs::read(&path).map_err(|e| {
                err!(MEDSEAL_TRANSPORT_CONFIG, "cannot read {} from the facility directory: {}", path.display(), io_reason(&e))
            })?;
            if bytes.len() > MAX_PEM_BYTES {
                return Err(err!(MEDSEAL_TRANSPORT_CONFIG, "{} is over {} bytes: not a certificate or key", path.display(), MAX_PEM_BYTES));
            }
            Ok(Zeroizing::new(bytes))
        };
        let key = |name: &str| -> Result<Arc<Key>> {
            let key = Key::import(&read(name)?, None)
                .map_err(|e| err!(MEDSEAL_TRANSPORT_CONFIG, "{} in the facility directory: {}", name, e.message()))?;
            Ok(Arc::new(key.to_public()))
        };
        self.client_certificate_pem(&read("client.pem")?)?;
        match &self.client_key {
            Some(ClientKey::Token(key)) => {
                if dir.join("client.key").exists() {
                    return Err(err!(
                        MEDSEAL_TRANSPORT_CONFIG,
                        "the TLS client key is key '{}' on token '{}', but {} holds a client.key file too: remove the file that is not the enrolled key",
                        key.key_label(),
                        key.token_label(),
                        dir.display()
                    ));
                }
            }
            _ => {
                self.client_key_pem(&read("client.key")?)?;
            }
        }
        self.hub_ca_pem(&read("hub-ca.pem")?)?;
        let (receipt, tree_head) = (key("receipt.pub")?, key("tree-head.pub")?);
        self.receipt_key(receipt);
        self.tree_head_key(tree_head);
        Ok(self)
    }

    /// Checks the configuration: a client certificate with its key (mutual TLS), a hub CA unless
    /// public roots were chosen (not both), and both hub keys.
    pub fn build(&self) -> Result<TransportConfig> {
        let (client_chain, client_leaf) = self.client_chain.clone().ok_or_else(|| {
            err!(MEDSEAL_TRANSPORT_CONFIG, "no client certificate: the hub accepts only mutual TLS (set the facility's client.pem)")
        })?;
        let client_key = self
            .client_key
            .clone()
            .ok_or_else(|| err!(MEDSEAL_TRANSPORT_CONFIG, "no client key: the client certificate needs its private key (client.key)"))?;
        let roots = match (&self.hub_ca, self.public_roots) {
            (Some(_), true) => {
                return Err(err!(
                    MEDSEAL_TRANSPORT_CONFIG,
                    "both a pinned hub CA and the public roots were configured: choose one (the hub CA is the default)"
                ))
            }
            (Some(ca), false) => Roots::HubCa(ca.clone()),
            (None, true) => Roots::Public,
            (None, false) => {
                return Err(err!(
                    MEDSEAL_TRANSPORT_CONFIG,
                    "no hub CA: set the hub's CA certificate (hub-ca.pem), or choose the public roots explicitly"
                ))
            }
        };
        let receipt_keys = self.receipt_keys.clone().ok_or_else(|| {
            err!(MEDSEAL_TRANSPORT_CONFIG, "no receipt key: receipts are verified before a record counts as delivered (receipt.pub)")
        })?;
        let tree_head_keys = self
            .tree_head_keys
            .clone()
            .ok_or_else(|| err!(MEDSEAL_TRANSPORT_CONFIG, "no tree-head key: inclusion proofs are verified with it (tree-head.pub)"))?;
        if receipt_keys.keys().is_empty() || tree_head_keys.keys().is_empty() {
            return Err(err!(MEDSEAL_TRANSPORT_CONFIG, "the receipt and tree-head verifiers need at least one key each"));
        }
        if self.connect_timeout > self.timeout {
            return Err(err!(
                MEDSEAL_TRANSPORT_CONFIG,
                "the connect timeout ({} ms) is longer than the total timeout ({} ms)",
                self.connect_timeout.as_millis(),
                self.timeout.as_millis()
            ));
        }
        Ok(TransportConfig {
            hub_url: self.hub_url.clone(),
            host: self.host.clone(),
            client_chain,
            client_leaf,
            client_key,
            roots,
            proxy: self.proxy.clone(),
            connect_timeout: self.connect_timeout,
            timeout: self.timeout,
            batch_size: self.batch_size,
            receipt_keys,
            tree_head_keys,
        })
    }
}

fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => text[..at].to_owned(),
        _ => text,
    }
}

fn check_timeout(timeout: Duration, name: &str) -> Result<Duration> {
    if timeout.is_zero() || timeout > Duration::from_secs(3600) {
        return Err(err!(MEDSEAL_TRANSPORT_CONFIG, "the {name} must be between 1 ms and 1 hour, not {} ms", timeout.as_millis()));
    }
    Ok(timeout)
}

/// Checks a hub URL; returns it without a trailing slash, and its host (without brackets).
fn check_hub_url(url: &str) -> Result<(String, String)> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("http://") {
        return Err(err!(
            MEDSEAL_TRANSPORT_CONFIG,
            "the hub URL {url} is plain HTTP: records go to the hub only over HTTPS with a verified certificate (use https://)"
        ));
    }
    if !lower.starts_with("https://") {
        return Err(err!(MEDSEAL_TRANSPORT_CONFIG, "the hub URL {url:?} is not an https:// URL"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(err!(MEDSEAL_TRANSPORT_CONFIG, "the hub URL {url:?} contains spaces or control characters"));
    }
    let uri: ureq::http::Uri = url.parse().map_err(|e| err!(MEDSEAL_TRANSPORT_CONFIG, "the hub URL {url:?} is not a valid URL: {e}"))?;
    let authority = uri.authority().ok_or_else(|| err!(MEDSEAL_TRANSPORT_CONFIG, "the hub URL {url:?} has no host"))?;
    if authority.as_str().contains('@') {
        return Err(err!(
            MEDSEAL_TRANSPORT_CONFIG,
            "the hub URL must not carry a user name or password (the client certificate identifies us)"
        ));
    }
    if uri.query().is_some() || url.contains('#') {
        return Err(err!(MEDSEAL_TRANSPORT_CONFIG, "the hub URL {url:?} must not have a query or fragment"));
    }
    let host = authority.host().trim_start_matches('[').trim_end_matches(']').to_owned();
    if host.is_empty() {
        return Err(err!(MEDSEAL_TRANSPORT_CONFIG, "the hub URL {url:?} has no host"));
    }
    if rustls_pki_types::ServerName::try_from(host.as_str()).is_err() {
        return Err(err!(MEDSEAL_TRANSPORT_CONFIG, "the hub URL's host {host:?} is neither a DNS name nor an IP address"));
    }
    Ok((url.trim_end_matches('/').to_owned(), host))
}

/// Checks a proxy URL: only HTTP CONNECT proxies.
pub(crate) fn check_proxy_url(url: &str, what: &str) -> Result<()> {
    let shown = redact_userinfo(url);
    let lower = url.trim().to_ascii_lowercase();
    let rest = match lower.split_once("://") {
        Some(("http", rest)) => rest,
        Some((scheme, _)) => {
            return Err(err!(
                MEDSEAL_TRANSPORT_CONFIG,
                "{what} {shown} is a {scheme} proxy: only HTTP CONNECT proxies (http://host:port) are supported"
            ))
        }
        None => return Err(err!(MEDSEAL_TRANSPORT_CONFIG, "{what} {shown} has no scheme: write it as http://host:port")),
    };
    if rest.is_empty() || rest.starts_with('/') || rest.starts_with(':') {
        return Err(err!(MEDSEAL_TRANSPORT_CONFIG, "{what} {shown} has no host"));
    }
    ureq::Proxy::new(url.trim()).map_err(|_| err!(MEDSEAL_TRANSPORT_CONFIG, "{what} {shown} is not a valid proxy URL"))?;
    Ok(())
}

/// Reads the `CERTIFICATE` blocks of a PEM text (DER each).
fn read_certificates(pem: &[u8], what: &str) -> Result<Vec<Vec<u8>>> {
    if pem.len() > MAX_PEM_BYTES {
        return Err(err!(MEDSEAL_TRANSPORT_CONFIG, "{what} is over {MAX_PEM_BYTES} bytes: not a PEM certificate file"));
    }
    let mut certs = Vec::new();
    for item in CertificateDer::pem_slice_iter(pem) {
        let cert = item.map_err(|e| err!(MEDSEAL_TRANSPORT_CONFIG, "{what} is not valid PEM: {e}"))?;
        certs.push(cert.as_ref().to_vec());
    }
    if certs.is_empty() {
        return Err(err!(MEDSEAL_TRANSPORT_CONFIG, "{what} holds no PEM CERTIFICATE block"));
    }
    if certs.len() > crate::x509::MAX_CHAIN_LEN {
        return Err(err!(
            MEDSEAL_TRANSPORT_CONFIG,
            "{what} holds {} certificates, over the limit of {}",
            certs.len(),
            crate::x509::MAX_CHAIN_LEN
        ));
    }
    for der in &certs {
        Certificate::from_der(der).map_err(|e| err!(MEDSEAL_TRANSPORT_CONFIG, "{what}: {}", e.message()))?;
    }
    Ok(certs)
}

/// Reads a PEM private key into a zeroized buffer (and wipes the parser's copy).
fn read_client_key(pem: &[u8]) -> Result<ClientKey> {
    if pem.len() > MAX_PEM_BYTES {
        return Err(err!(MEDSEAL_TRANSPORT_CONFIG, "the client key is over {MAX_PEM_BYTES} bytes: not a PEM key file"));
    }
    if pem.windows(b"ENCRYPTED".len()).any(|w| w == b"ENCRYPTED") {
        return Err(err!(MEDSEAL_TRANSPORT_CONFIG, "the client key is encrypted; give it unencrypted (keep the file owner-only)"));
    }
    let mut key = PrivateKeyDer::from_pem_slice(pem).map_err(|e| match e {
        rustls_pki_types::pem::Error::NoItemsFound => {
            err!(MEDSEAL_TRANSPORT_CONFIG, "the client key holds no PEM PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block")
        }
        // The error text never holds key bytes.
        other => err!(MEDSEAL_TRANSPORT_CONFIG, "the client key is not valid PEM: {other}"),
    })?;
    let kind = match &key {
        PrivateKeyDer::Pkcs8(_) => KeyKind::Pkcs8,
        PrivateKeyDer::Pkcs1(_) => KeyKind::Pkcs1,
        PrivateKeyDer::Sec1(_) => KeyKind::Sec1,
        _ => return Err(err!(MEDSEAL_TRANSPORT_CONFIG, "the client key is of an unknown kind")),
    };
    let der = Zeroizing::new(key.secret_der().to_vec());
    key.zeroize();
    let key = ClientKey::Der { kind, der };
    // Checked now so the error names the key, not the handshake.
    if let Some(der) = key.as_rustls() {
        rustls::crypto::ring::sign::any_supported_type(&der)
            .map_err(|e| err!(MEDSEAL_TRANSPORT_CONFIG, "the client key cannot be used for TLS: {e}"))?;
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_urls() {
        assert_eq!(check_hub_url("https://hub.example:8443/").unwrap(), ("https://hub.example:8443".into(), "hub.example".into()));
        assert_eq!(check_hub_url("https://127.0.0.1:1/base").unwrap().1, "127.0.0.1");
        assert_eq!(check_hub_url("https://[::1]:8443").unwrap().1, "::1");
        for bad in ["http://hub.example", "ftp://x", "hub.example", "https://", "https://u:p@hub", "https://hub/?a=1", "https://hub/#x"] {
            let e = check_hub_url(bad).unwrap_err();
            assert_eq!(e.code(), crate::ResultCode::MEDSEAL_TRANSPORT_CONFIG, "{bad}");
        }
        assert!(check_hub_url("http://hub.example").unwrap_err().message().contains("plain HTTP"));
    }

    #[test]
    fn proxy_urls() {
        check_proxy_url("http://proxy.local:3128", "p").unwrap();
        check_proxy_url("http://user:secret@proxy.local:3128", "p").unwrap();
        for bad in ["socks5://p:1080", "https://p:443", "proxy:3128", "http://", "http://:3128"] {
            assert!(check_proxy_url(bad, "p").is_err(), "{bad}");
        }
        let e = check_proxy_url("socks5://user:secret@p:1080", "p").unwrap_err();
        assert!(!e.message().contains("secret"));
        assert_eq!(redact_userinfo("http://user:pw@host:1/x@y"), "http://***@host:1/x@y");
        assert_eq!(redact_userinfo("http://host:1"), "http://host:1");
    }
}
