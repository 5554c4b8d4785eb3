//! Connecting and logging in. TLS trusts the public roots plus any configured CA file;
//! the login step is one function so that XOAUTH2 can stand beside the password.

use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use secrecy::ExposeSecret;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::stream::Conn;
use crate::config::{ImapSettings, TlsMode};

pub type Session = async_imap::Session<Conn>;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("cannot connect to {host}:{port}: {source}")]
    Connect {
        host: String,
        port: u16,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot set up TLS: {0}")]
    TlsSetup(String),
    #[error("TLS handshake with {host} failed: {source}")]
    Handshake {
        host: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the server refused the login for {user}: {reason}")]
    Login { user: String, reason: String },
    #[error("IMAP {action} failed: {source}")]
    Protocol {
        action: &'static str,
        #[source]
        source: async_imap::error::Error,
    },
    #[error("the server has no folder '{0}'")]
    NoFolder(String),
    #[error("the server closed the connection")]
    Closed,
}

impl ImapError {
    /// A refused login or a missing folder will not mend by reconnecting at once.
    pub fn is_permanent(&self) -> bool {
        matches!(self, ImapError::Login { .. } | ImapError::NoFolder(_) | ImapError::TlsSetup(_))
    }
}

pub(super) fn protocol(action: &'static str) -> impl FnOnce(async_imap::error::Error) -> ImapError {
    move |source| ImapError::Protocol { action, source }
}

fn tls_connector(settings: &ImapSettings) -> Result<TlsConnector, ImapError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(ca) = &settings.ca_file {
        let certs = CertificateDer::pem_file_iter(ca)
            .map_err(|e| ImapError::TlsSetup(format!("cannot read CA file {}: {e}", ca.display())))?;
        for cert in certs {
            let cert = cert.map_err(|e| ImapError::TlsSetup(format!("bad certificate in {}: {e}", ca.display())))?;
            roots
                .add(cert)
                .map_err(|e| ImapError::TlsSetup(format!("unusable certificate in {}: {e}", ca.display())))?;
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| ImapError::TlsSetup(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

async fn handshake(settings: &ImapSettings, tcp: TcpStream) -> Result<Conn, ImapError> {
    let connector = tls_connector(settings)?;
    let name = ServerName::try_from(settings.host.clone())
        .map_err(|e| ImapError::TlsSetup(format!("'{}' is not a server name: {e}", settings.host)))?;
    let tls = connector
        .connect(name, tcp)
        .await
        .map_err(|source| ImapError::Handshake { host: settings.host.clone(), source })?;
    Ok(Conn::Tls(Box::new(tls)))
}

async fn greeting(client: &mut async_imap::Client<Conn>) -> Result<(), ImapError> {
    match client.read_response().await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(ImapError::Closed),
        Err(e) => Err(ImapError::Protocol { action: "greeting", source: e.into() }),
    }
}

/// Connects, secures the connection as configured and logs in.
pub async fn connect(settings: &ImapSettings) -> Result<Session, ImapError> {
    let connect_error = |source| ImapError::Connect { host: settings.host.clone(), port: settings.port, source };
    let tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect((settings.host.as_str(), settings.port)))
        .await
        .map_err(|_| connect_error(std::io::Error::new(std::io::ErrorKind::TimedOut, "timed out")))?
        .map_err(connect_error)?;
    let client = match settings.tls {
        TlsMode::Implicit => {
            let mut client = async_imap::Client::new(handshake(settings, tcp).await?);
            greeting(&mut client).await?;
            client
        }
        TlsMode::StartTls => {
            let mut client = async_imap::Client::new(Conn::Plain(tcp));
            greeting(&mut client).await?;
            client.run_command_and_check_ok("STARTTLS", None).await.map_err(protocol("STARTTLS"))?;
            let Conn::Plain(tcp) = client.into_inner() else { return Err(ImapError::Closed) };
            async_imap::Client::new(handshake(settings, tcp).await?)
        }
        TlsMode::Plain => {
            let mut client = async_imap::Client::new(Conn::Plain(tcp));
            greeting(&mut client).await?;
            client
        }
    };
    login(client, settings).await
}

async fn login(client: async_imap::Client<Conn>, settings: &ImapSettings) -> Result<Session, ImapError> {
    client
        .login(&settings.username, settings.password.expose_secret())
        .await
        .map_err(|(e, _)| ImapError::Login { user: settings.username.clone(), reason: e.to_string() })
}
