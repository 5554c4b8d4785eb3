//! A small OAuth2 authorisation server on loopback for the tests: it issues tokens to
//! registered clients (client credentials, or a refresh token), answers Dovecot's token
//! introspection, and lets a test expire every token of a client or revoke the client.
//! One per test run, on the port the mail stack was started with; each test registers
//! its own client, so tests run side by side.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::mailstack::stack;

#[derive(Default)]
struct Client {
    secret: String,
    refresh_token: String,
    user: String,
    revoked: bool,
    lifetime: u64,
    issued: usize,
}

#[derive(Default)]
struct State {
    clients: HashMap<String, Client>,
    /// token → (client, still valid)
    tokens: HashMap<String, (String, bool)>,
}

pub struct TokenServer {
    state: Arc<Mutex<State>>,
    port: u16,
}

/// A registered client: what its configuration needs.
#[derive(Debug, Clone)]
pub struct Registered {
    pub id: String,
    pub secret: String,
    pub refresh_token: String,
}

pub fn token_server() -> &'static TokenServer {
    static SERVER: OnceLock<TokenServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        let port: u16 = stack()["CSPR_MAILSTACK_TOKEN_PORT"].parse().expect("a token port");
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let (ready, wait) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("token port is free");
                ready.send(()).expect("test waits");
                loop {
                    let Ok((stream, _)) = listener.accept().await else { continue };
                    tokio::spawn(serve(stream, shared.clone()));
                }
            });
        });
        wait.recv().expect("token server started");
        TokenServer { state, port }
    })
}

impl TokenServer {
    pub fn token_url(&self) -> String {
        format!("http://127.0.0.1:{}/token", self.port)
    }

    /// A new client whose tokens log in as `user`, each valid for `lifetime` seconds.
    pub fn register(&self, user: &str, lifetime: u64) -> Registered {
        let n = fastrand::u64(..);
        let registered = Registered {
            id: format!("client-{n:016x}"),
            secret: format!("secret-{:016x}", fastrand::u64(..)),
            refresh_token: format!("refresh-{:016x}", fastrand::u64(..)),
        };
        self.state.lock().unwrap().clients.insert(
            registered.id.clone(),
            Client {
                secret: registered.secret.clone(),
                refresh_token: registered.refresh_token.clone(),
                user: user.to_owned(),
                lifetime,
                ..Client::default()
            },
        );
        registered
    }

    /// Every token issued to the client stops working (as if it had expired).
    pub fn expire_tokens(&self, id: &str) {
        for (client, valid) in self.state.lock().unwrap().tokens.values_mut() {
            if client == id {
                *valid = false;
            }
        }
    }

    /// The client's credentials are refused (and its tokens stop working) until restored.
    pub fn revoke(&self, id: &str) {
        self.expire_tokens(id);
        self.state.lock().unwrap().clients.get_mut(id).expect("registered").revoked = true;
    }

    pub fn restore(&self, id: &str) {
        self.state.lock().unwrap().clients.get_mut(id).expect("registered").revoked = false;
    }

    /// How many tokens the client has been given.
    pub fn issued(&self, id: &str) -> usize {
        self.state.lock().unwrap().clients.get(id).map_or(0, |c| c.issued)
    }
}

fn form(body: &str) -> HashMap<String, String> {
    let decode = |s: &str| {
        let bytes = s.replace('+', " ").into_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%'
                && let Some(hex) = bytes.get(i + 1..i + 3)
                && let Ok(byte) = u8::from_str_radix(std::str::from_utf8(hex).unwrap_or("zz"), 16)
            {
                out.push(byte);
                i += 3;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    body.split('&').filter_map(|pair| pair.split_once('=')).map(|(k, v)| (decode(k), decode(v))).collect()
}

fn answer(path: &str, body: &str, state: &Mutex<State>) -> (u16, serde_json::Value) {
    let form = form(body);
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    let mut state = state.lock().unwrap();
    match path {
        "/token" => {
            let id = field("client_id");
            let grant = field("grant_type");
            let Some(client) = state.clients.get_mut(&id) else {
                return (401, serde_json::json!({"error": "invalid_client", "error_description": "unknown client"}));
            };
            if client.revoked || (grant == "client_credentials" && field("client_secret") != client.secret) {
                return (
                    401,
                    serde_json::json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}),
                );
            }
            if grant == "refresh_token" && field("refresh_token") != client.refresh_token {
                return (
                    400,
                    serde_json::json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."}),
                );
            }
            if grant != "client_credentials" && grant != "refresh_token" {
                return (400, serde_json::json!({"error": "unsupported_grant_type"}));
            }
            client.issued += 1;
            let lifetime = client.lifetime;
            let token = format!("tok-{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
            state.tokens.insert(token.clone(), (id, true));
            (200, serde_json::json!({"access_token": token, "token_type": "Bearer", "expires_in": lifetime}))
        }
        "/introspect" => {
            let token = field("token");
            let active = state.tokens.get(&token).filter(|(_, valid)| *valid).and_then(|(id, _)| state.clients.get(id));
            match active {
                Some(client) if !client.revoked => (200, serde_json::json!({"active": true, "username": client.user})),
                _ => (200, serde_json::json!({"active": false})),
            }
        }
        _ => (404, serde_json::json!({"error": "not_found"})),
    }
}

/// HTTP/1.1 with keep-alive (Dovecot reuses its connection).
async fn serve(stream: tokio::net::TcpStream, state: Arc<Mutex<State>>) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).await.unwrap_or(0) == 0 {
            return;
        }
        let path = request_line.split_whitespace().nth(1).unwrap_or("/").to_owned();
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).await.unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length.min(1 << 20)];
        if reader.read_exact(&mut body).await.is_err() {
            return;
        }
        let (status, json) = answer(&path, &String::from_utf8_lossy(&body), &state);
        let text = json.to_string();
        let reason = if status == 200 { "OK" } else { "Error" };
        let response = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{text}",
            text.len()
        );
        if write.write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}
