//! Access tokens: one source per token endpoint, client and scope, shared by everything
//! that logs in with them. A token is reused until a fifth of its life (at most five
//! minutes) is left; a token the mail server refuses is dropped and fetched again once;
//! a failing endpoint is asked again only after a growing pause.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex as StdMutex};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::backoff::Backoff;
use crate::config::{OAuth2Settings, OAuthGrant};

/// Requests to token endpoints, and the ones that failed (for `/metrics`).
static REQUESTS: AtomicU64 = AtomicU64::new(0);
static FAILURES: AtomicU64 = AtomicU64::new(0);

/// `(requests, failures)` to token endpoints since the process started.
pub fn metrics() -> (u64, u64) {
    (REQUESTS.load(Ordering::Relaxed), FAILURES.load(Ordering::Relaxed))
}

const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// A bearer token and when it is to be replaced.
pub struct AccessToken {
    secret: SecretString,
    refresh_at: Instant,
    serial: u64,
}

impl AccessToken {
    pub fn expose(&self) -> &str {
        self.secret.expose_secret()
    }
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken").field("serial", &self.serial).finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum TokenError {
    /// The endpoint answered and said no: a wrong, expired or revoked client credential
    /// or refresh token. The provider's own words are kept (they name no secret).
    #[error("the {provider} token endpoint refused the credentials (HTTP {status}): {error}{}", description_suffix(.description))]
    Refused { provider: String, status: u16, error: String, description: Option<String> },
    #[error("the {provider} token endpoint cannot be reached: {reason}")]
    Unreachable { provider: String, reason: String },
    #[error("the {provider} token endpoint's answer is not a token: {reason}")]
    BadAnswer { provider: String, reason: String },
    #[error("cannot ask for a token: {0}")]
    Setup(String),
}

fn description_suffix(description: &Option<String>) -> String {
    description.as_ref().map(|d| format!(" — {d}")).unwrap_or_default()
}

struct State {
    token: Option<Arc<AccessToken>>,
    backoff: Backoff,
    retry_at: Option<Instant>,
    last_error: Option<TokenError>,
    serial: u64,
}

/// Where tokens for one set of OAuth2 settings come from.
pub struct TokenSource {
    settings: Arc<OAuth2Settings>,
    client: std::sync::OnceLock<reqwest::Client>,
    state: Mutex<State>,
}

static SOURCES: LazyLock<StdMutex<HashMap<String, Arc<TokenSource>>>> = LazyLock::new(Default::default);

fn cache_key(settings: &OAuth2Settings) -> String {
    let mut hash = Sha256::new();
    for part in [
        settings.token_url.as_str(),
        settings.client_id.as_str(),
        settings.scope.as_deref().unwrap_or(""),
        settings.client_secret.as_ref().map(|s| s.expose_secret()).unwrap_or(""),
        settings.refresh_token.as_ref().map(|s| s.expose_secret()).unwrap_or(""),
        settings.client_certificate.as_ref().map(|(_, k)| k.expose_secret()).unwrap_or(""),
    ] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    hex::encode(hash.finalize())
}

impl TokenSource {
    /// The shared source for these settings (one cache per endpoint, client, scope and
    /// credential, whichever connection asks).
    pub fn for_settings(settings: &Arc<OAuth2Settings>) -> Arc<TokenSource> {
        let key = cache_key(settings);
        let mut sources = SOURCES.lock().unwrap_or_else(|e| e.into_inner());
        sources
            .entry(key)
            .or_insert_with(|| {
                Arc::new(TokenSource {
                    settings: settings.clone(),
                    client: std::sync::OnceLock::new(),
                    state: Mutex::new(State {
                        token: None,
                        backoff: Backoff::new(Duration::from_secs(1), Duration::from_secs(300)),
                        retry_at: None,
                        last_error: None,
                        serial: 0,
                    }),
                })
            })
            .clone()
    }

    pub fn provider(&self) -> &str {
        &self.settings.provider
    }

    /// A token that is good for a while yet: the cached one, or a new one.
    pub async fn token(&self) -> Result<Arc<AccessToken>, TokenError> {
        let mut state = self.state.lock().await;
        let now = Instant::now();
        if let Some(token) = &state.token
            && now < token.refresh_at
        {
            return Ok(token.clone());
        }
        if let (Some(retry_at), Some(error)) = (state.retry_at, &state.last_error)
            && now < retry_at
        {
            // Still backing off: say why, without asking the endpoint again.
            return Err(error.clone());
        }
        REQUESTS.fetch_add(1, Ordering::Relaxed);
        match self.fetch().await {
            Ok((secret, lifetime)) => {
                let margin = (lifetime / 5).min(MAX_REFRESH_MARGIN);
                state.serial += 1;
                let token = Arc::new(AccessToken { secret, refresh_at: now + lifetime - margin, serial: state.serial });
                state.token = Some(token.clone());
                state.backoff.reset();
                state.retry_at = None;
                if state.last_error.take().is_some() {
                    tracing::info!(provider = %self.settings.provider, "token endpoint answering again");
                }
                tracing::debug!(provider = %self.settings.provider, lifetime_s = lifetime.as_secs(), "access token obtained");
                Ok(token)
            }
            Err(error) => {
                FAILURES.fetch_add(1, Ordering::Relaxed);
                let wait = state.backoff.next_delay();
                tracing::warn!(provider = %self.settings.provider, %error, retry_in = ?wait, "no access token");
                state.token = None;
                state.retry_at = Some(now + wait);
                state.last_error = Some(error.clone());
                Err(error)
            }
        }
    }

    /// The mail server refused `token`: forget it, so that the next `token()` asks anew.
    pub async fn rejected(&self, token: &AccessToken) {
        let mut state = self.state.lock().await;
        if state.token.as_ref().is_some_and(|t| t.serial == token.serial) {
            tracing::info!(provider = %self.settings.provider, "the mail server refused the access token: fetching a new one");
            state.token = None;
        }
    }

    fn client(&self) -> Result<&reqwest::Client, TokenError> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        let client = http_client(self.settings.ca_file.as_deref())?;
        Ok(self.client.get_or_init(|| client))
    }

    async fn fetch(&self) -> Result<(SecretString, Duration), TokenError> {
        let s = &self.settings;
        let provider = s.provider.clone();
        let mut form: Vec<(&str, String)> = vec![("client_id", s.client_id.clone())];
        match s.grant {
            OAuthGrant::ClientCredentials => form.push(("grant_type", "client_credentials".into())),
            OAuthGrant::RefreshToken => {
                form.push(("grant_type", "refresh_token".into()));
                if let Some(refresh) = &s.refresh_token {
                    form.push(("refresh_token", refresh.expose_secret().to_owned()));
                }
            }
        }
        if let Some(scope) = &s.scope {
            form.push(("scope", scope.clone()));
        }
        if let Some((certificate, key)) = &s.client_certificate {
            let now = chrono::Utc::now().timestamp();
            let jti = hex::encode(fastrand::u128(..).to_be_bytes());
            let assertion =
                super::client_assertion(&s.client_id, &s.token_url, certificate, key.expose_secret(), now, &jti)
                    .map_err(TokenError::Setup)?;
            form.push(("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into()));
            form.push(("client_assertion", assertion));
        } else if let Some(secret) = &s.client_secret {
            form.push(("client_secret", secret.expose_secret().to_owned()));
        }
        let unreachable = |reason: String| TokenError::Unreachable { provider: provider.clone(), reason };
        let response = self
            .client()?
            .post(&s.token_url)
            .form(&form)
            .send()
            .await
            .map_err(|e| unreachable(describe_http_error(&e)))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| unreachable(describe_http_error(&e)))?;
        let json: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
        let field = |name: &str| json.as_ref().and_then(|j| j.get(name)).and_then(|v| v.as_str()).map(str::to_owned);
        if !status.is_success() {
            if status.is_server_error() || status.as_u16() == 429 {
                return Err(unreachable(format!("HTTP {status}")));
            }
            return Err(TokenError::Refused {
                provider,
                status: status.as_u16(),
                error: field("error").unwrap_or_else(|| "no error code given".into()),
                description: field("error_description").map(|d| d.chars().take(300).collect()),
            });
        }
        let bad = |reason: &str| TokenError::BadAnswer { provider: provider.clone(), reason: reason.to_owned() };
        let Some(token) = field("access_token").filter(|t| !t.is_empty()) else {
            return Err(bad("no access_token in the answer"));
        };
        let expires_in = json
            .as_ref()
            .and_then(|j| j.get("expires_in"))
            .and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
            .unwrap_or(3600);
        Ok((SecretString::from(token), Duration::from_secs(expires_in.max(1))))
    }
}

/// An HTTP error in words that name neither the form nor its secrets.
fn describe_http_error(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "cannot connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn http_client(ca_file: Option<&std::path::Path>) -> Result<reqwest::Client, TokenError> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(ca) = ca_file {
        for cert in CertificateDer::pem_file_iter(ca)
            .map_err(|e| TokenError::Setup(format!("cannot read CA file {}: {e}", ca.display())))?
        {
            let cert = cert.map_err(|e| TokenError::Setup(format!("bad certificate in {}: {e}", ca.display())))?;
            roots.add(cert).map_err(|e| TokenError::Setup(format!("unusable certificate in {}: {e}", ca.display())))?;
        }
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| TokenError::Setup(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("cspr/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| TokenError::Setup(e.to_string()))
}
