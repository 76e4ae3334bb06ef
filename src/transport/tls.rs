//! The TLS step of the transport's ureq agent, with medseal's own rustls `ClientConfig`.
//!
//! ureq 3 builds its rustls configuration from its `TlsConfig`, which takes a client key only
//! as DER bytes: a key held on a token (a rustls `SigningKey` of our own, `token_key.rs`)
//! cannot be given to it. ureq's connector chain can be replaced (`Agent::with_parts`), so the
//! agent's chain is ureq's own CONNECT-proxy and TCP steps followed by this one, which does
//! what ureq's `RustlsConnector` does with the configuration [`Transport::new`] built and
//! checked (the same one the diagnostic handshake uses). No async runtime, no other change to
//! how requests are made.
//!
//! [`Transport::new`]: super::Transport::new

use std::io::{Read, Write};
use std::sync::Arc;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use ureq::unversioned::transport::time::{Duration, Instant};
use ureq::unversioned::transport::{Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, Transport, TransportAdapter};

/// Wraps the chained connection in TLS for `https` URLs.
#[derive(Debug)]
pub(crate) struct TlsConnector(pub(crate) Arc<ClientConfig>);

impl<In: Transport> Connector<In> for TlsConnector {
    type Out = Either<In, TlsTransport>;

    fn connect(&self, details: &ConnectionDetails, chained: Option<In>) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else { return Ok(None) };
        // A proxy's own connection (plain HTTP) and an already-TLS transport pass as they are.
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let host = details.uri.authority().map(|a| a.host().trim_start_matches('[').trim_end_matches(']')).unwrap_or_default();
        let name = ServerName::try_from(host.to_owned()).map_err(|_| ureq::Error::Tls("the hub's host is not a valid TLS server name"))?;
        let mut conn = ClientConnection::new(self.0.clone(), name)?;
        let mut sock = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        // The connect timeout counts from the start of the connection, TCP included.
        sock.set_timeout(remaining(details));
        conn.complete_io(&mut sock)?;
        let buffers = LazyBuffers::new(details.config.input_buffer_size(), details.config.output_buffer_size());
        Ok(Some(Either::B(TlsTransport { buffers, stream: StreamOwned { conn, sock } })))
    }
}

/// What is left of the connection's timeout.
fn remaining(details: &ConnectionDetails) -> NextTimeout {
    let mut timeout = details.timeout;
    if let (Duration::Exact(after), Instant::Exact(start), Instant::Exact(now)) = (timeout.after, details.now, (details.current_time)()) {
        timeout.after = Duration::Exact(after.saturating_sub(now.saturating_duration_since(start)));
    }
    timeout
}

/// An HTTP connection over TLS.
pub(crate) struct TlsTransport {
    buffers: LazyBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter>,
}

impl std::fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsTransport").field("chained", &self.stream.sock.inner()).finish()
    }
}

impl Transport for TlsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let output = &self.buffers.output()[..amount];
        self.stream.write_all(output)?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let amount = self.stream.read(input)?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.get_mut().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}
