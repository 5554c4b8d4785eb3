//! How mail comes and goes: the mailbox, the outbound transport, OAuth2, secrets, and
//! the HTTP listener.

use super::*;

pub(super) fn http(
    raw: &super::super::raw::RawHttp,
    files: &dyn Files,
    issues: &mut Issues,
) -> super::super::HttpSettings {
    let listen = if raw.enabled {
        issues.take(
            "http.listen",
            raw.listen
                .parse::<std::net::SocketAddr>()
                .map_err(|_| format!("'{}' is not an address and port", raw.listen)),
        )
    } else {
        None
    };
    let mut calendar_token = raw.calendar_token.clone().map(SecretString::from);
    if let Some(name) = &raw.calendar_token_file {
        calendar_token = issues.take("http.calendar_token_file", files.read_secret(name)).map(SecretString::from);
    }
    super::super::HttpSettings { listen, calendar_token }
}

pub(super) fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

pub(super) fn build_mailbox(raw: &RawMailbox, files: &dyn Files, issues: &mut Issues) -> Option<MailboxSource> {
    let poll_interval = std::time::Duration::from_secs(raw.poll_interval_seconds);
    if raw.poll_interval_seconds == 0 {
        issues.push("mailbox.poll_interval_seconds", "must be at least 1");
    }
    match raw.source.as_str() {
        "maildir" => {
            Some(MailboxSource::Maildir { path: PathBuf::from(&raw.maildir), poll_interval, read_only: false })
        }
        "imap" => {
            let tls = match raw.tls.as_str() {
                "implicit" => Some(TlsMode::Implicit),
                "starttls" => Some(TlsMode::StartTls),
                "plain" if is_loopback(&raw.host) => Some(TlsMode::Plain),
                "plain" => {
                    issues.push("mailbox.tls", "plain (unencrypted) IMAP is allowed only to a loopback address");
                    None
                }
                other => {
                    issues.push(
                        "mailbox.tls",
                        format!("'{other}' is not a TLS mode (expected implicit, starttls or plain)"),
                    );
                    None
                }
            };
            if raw.host.trim().is_empty() {
                issues.push("mailbox.host", "must be set for an IMAP mailbox");
            }
            if raw.username.trim().is_empty() {
                issues.push("mailbox.username", "must be set for an IMAP mailbox");
            }
            let credential = match raw.auth.as_str() {
                "password" => match (&raw.password_file, &raw.password) {
                    (Some(name), _) => issues
                        .take("mailbox.password_file", files.read_secret(name))
                        .map(|p| Credential::Password(SecretString::from(p))),
                    (None, Some(value)) => Some(Credential::Password(SecretString::from(value.clone()))),
                    (None, None) => {
                        issues.push(
                            "mailbox.password_file",
                            "an IMAP mailbox needs a password file or CSPR__MAILBOX__PASSWORD (or auth = \"oauth2\")",
                        );
                        None
                    }
                },
                "oauth2" => match &raw.oauth2 {
                    Some(oauth) => build_oauth2("mailbox.oauth2", oauth, files, issues)
                        .map(|o| Credential::OAuth2(std::sync::Arc::new(o))),
                    None => {
                        issues.push("mailbox.oauth2", "auth = \"oauth2\" needs a [mailbox.oauth2] table");
                        None
                    }
                },
                other => {
                    issues
                        .push("mailbox.auth", format!("'{other}' is not a login method (expected password or oauth2)"));
                    None
                }
            };
            let alert_roles: Vec<Role> = raw
                .alert_roles
                .iter()
                .enumerate()
                .filter_map(|(i, r)| issues.take(format!("mailbox.alert_roles[{i}]"), r.parse::<Role>()))
                .collect();
            if raw.unreachable_alert_seconds == 0 {
                issues.push("mailbox.unreachable_alert_seconds", "must be at least 1");
            }
            if !(1..=25).contains(&raw.idle_reissue_minutes) {
                issues.push("mailbox.idle_reissue_minutes", "must be from 1 to 25 (servers end IDLE after 30 minutes)");
            }
            let ca_file = raw.ca_file.as_ref().map(|f| data_file("mailbox.ca_file", f, files, issues));
            let tls = tls?;
            let port = raw.port.unwrap_or(if tls == TlsMode::Implicit { 993 } else { 143 });
            Some(MailboxSource::Imap(Box::new(ImapSettings {
                host: raw.host.trim().to_owned(),
                port,
                tls,
                username: raw.username.trim().to_owned(),
                credential: credential?,
                ca_file,
                folder: raw.folder.clone(),
                idle: raw.idle,
                idle_reissue: std::time::Duration::from_secs(raw.idle_reissue_minutes * 60),
                poll_interval,
                processed_folder: raw.processed_folder.as_ref().map(|f| f.trim().to_owned()).filter(|f| !f.is_empty()),
                unreachable_alert_after: std::time::Duration::from_secs(raw.unreachable_alert_seconds.max(1)),
                alert_roles,
                command_timeout: std::time::Duration::from_secs(raw.command_timeout_seconds.max(1)),
            })))
        }
        other => {
            issues.push("mailbox.source", format!("'{other}' is not a mail source (expected maildir or imap)"));
            None
        }
    }
}

pub(super) fn build_outbound(
    raw: &RawOutbound,
    mailbox_oauth: Option<&RawOAuth2>,
    files: &dyn Files,
    issues: &mut Issues,
) -> Option<OutboundSettings> {
    if raw.max_attempts == 0 {
        issues.push("outbound.max_attempts", "must be at least 1");
    }
    if !(1..=3600).contains(&raw.retry_base_seconds) {
        issues.push("outbound.retry_base_seconds", "must be from 1 to 3600");
    }
    let transport = match raw.transport.as_str() {
        "file" => Transport::File(PathBuf::from(&raw.directory)),
        "smtp" => {
            let tls = match raw.tls.as_str() {
                "implicit" => TlsMode::Implicit,
                "starttls" => TlsMode::StartTls,
                "plain" if is_loopback(&raw.host) => TlsMode::Plain,
                "plain" => {
                    issues.push("outbound.tls", "plain (unencrypted) SMTP is allowed only to a loopback address");
                    return None;
                }
                other => {
                    issues.push(
                        "outbound.tls",
                        format!("'{other}' is not a TLS mode (expected implicit, starttls or plain)"),
                    );
                    return None;
                }
            };
            if raw.host.trim().is_empty() {
                issues.push("outbound.host", "must be set for SMTP");
            }
            let password = match (&raw.password_file, &raw.password) {
                (Some(name), _) => {
                    issues.take("outbound.password_file", files.read_secret(name)).map(SecretString::from)
                }
                (None, Some(value)) => Some(SecretString::from(value.clone())),
                (None, None) => None,
            };
            let auth = raw.auth.as_deref().unwrap_or(if password.is_some() { "password" } else { "none" });
            let credential = match auth {
                "none" => None,
                "password" => match password {
                    Some(p) => Some(Credential::Password(p)),
                    None => {
                        issues.push(
                            "outbound.password_file",
                            "auth = \"password\" needs a password file or CSPR__OUTBOUND__PASSWORD",
                        );
                        None
                    }
                },
                "oauth2" => match (&raw.oauth2, mailbox_oauth) {
                    (Some(oauth), _) => build_oauth2("outbound.oauth2", oauth, files, issues),
                    (None, Some(oauth)) => build_oauth2("mailbox.oauth2", oauth, files, issues),
                    (None, None) => {
                        issues.push(
                            "outbound.oauth2",
                            "auth = \"oauth2\" needs an [outbound.oauth2] table (or the mailbox's)",
                        );
                        None
                    }
                }
                .map(|o| Credential::OAuth2(std::sync::Arc::new(o))),
                other => {
                    issues.push(
                        "outbound.auth",
                        format!("'{other}' is not a login method (expected password, oauth2 or none)"),
                    );
                    None
                }
            };
            let port = raw.port.unwrap_or(match tls {
                TlsMode::Implicit => 465,
                TlsMode::StartTls => 587,
                TlsMode::Plain => 25,
            });
            Transport::Smtp(Box::new(SmtpSettings {
                host: raw.host.trim().to_owned(),
                port,
                tls,
                username: raw.username.trim().to_owned(),
                credential,
                ca_file: raw.ca_file.as_ref().map(|f| data_file("outbound.ca_file", f, files, issues)),
            }))
        }
        other => {
            issues.push("outbound.transport", format!("'{other}' is not a transport (expected file or smtp)"));
            return None;
        }
    };
    Some(OutboundSettings {
        transport,
        sent_folder: Some(raw.sent_folder.trim().to_owned()).filter(|f| !f.is_empty()),
        templates_dir: raw.templates_dir.as_ref().map(|d| {
            let dir = files.resolve_data(d);
            if !dir.is_dir() {
                issues.push("outbound.templates_dir", format!("{} is not a folder that can be read", dir.display()));
            }
            dir
        }),
        max_attempts: raw.max_attempts,
        retry_base: std::time::Duration::from_secs(raw.retry_base_seconds.clamp(1, 3600)),
    })
}

pub(super) fn secret_of(
    key: &str,
    file: &Option<String>,
    value: &Option<String>,
    files: &dyn Files,
    issues: &mut Issues,
) -> Option<SecretString> {
    match (file, value) {
        (Some(name), _) => issues.take(format!("{key}_file"), files.read_secret(name)).map(SecretString::from),
        (None, Some(value)) => Some(SecretString::from(value.clone())),
        (None, None) => None,
    }
}

/// A token endpoint's settings: provider defaults, then what is written.
pub(super) fn build_oauth2(
    key: &str,
    raw: &RawOAuth2,
    files: &dyn Files,
    issues: &mut Issues,
) -> Option<OAuth2Settings> {
    let before = issues.0.len();
    let provider = raw.provider.trim().to_ascii_lowercase();
    if raw.client_id.trim().is_empty() {
        issues.push(format!("{key}.client_id"), "must be set");
    }
    let client_secret =
        secret_of(&format!("{key}.client_secret"), &raw.client_secret_file, &raw.client_secret, files, issues);
    let refresh_token =
        secret_of(&format!("{key}.refresh_token"), &raw.refresh_token_file, &raw.refresh_token, files, issues);
    let client_certificate = match (&raw.certificate_file, &raw.private_key_file) {
        (Some(cert), Some(private_key)) => {
            let cert = issues.take(format!("{key}.certificate_file"), files.read_secret(cert)).and_then(|pem| {
                use rustls_pki_types::pem::PemObject;
                issues.take(
                    format!("{key}.certificate_file"),
                    rustls_pki_types::CertificateDer::from_pem_slice(pem.as_bytes())
                        .map(|c| c.to_vec())
                        .map_err(|e| format!("not a PEM certificate: {e}")),
                )
            });
            let private_key = issues.take(format!("{key}.private_key_file"), files.read_secret(private_key));
            cert.zip(private_key).map(|(c, k)| (c, SecretString::from(k)))
        }
        (None, None) => None,
        _ => {
            issues.push(
                format!("{key}.certificate_file"),
                "a certificate needs its private_key_file, and the other way round",
            );
            None
        }
    };
    let tenant = raw.tenant.trim();
    let (default_url, default_scope, grant) = match provider.as_str() {
        "microsoft" => {
            if tenant.is_empty() && raw.token_url.is_none() {
                issues.push(format!("{key}.tenant"), "must be set for Microsoft (the directory (tenant) ID or domain)");
            }
            if client_secret.is_none() && client_certificate.is_none() {
                issues.push(
                    format!("{key}.client_secret_file"),
                    "Microsoft needs a client secret file or a certificate_file and private_key_file",
                );
            }
            (
                Some(format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token")),
                Some("https://outlook.office365.com/.default".to_owned()),
                OAuthGrant::ClientCredentials,
            )
        }
        "google" => {
            if refresh_token.is_none() {
                issues.push(format!("{key}.refresh_token_file"), "Google needs the mailbox user's refresh token");
            }
            if client_secret.is_none() {
                issues.push(format!("{key}.client_secret_file"), "Google needs the OAuth client's secret");
            }
            (Some("https://oauth2.googleapis.com/token".to_owned()), None, OAuthGrant::RefreshToken)
        }
        "generic" => {
            if raw.token_url.is_none() {
                issues.push(format!("{key}.token_url"), "must be set for a generic provider");
            }
            let grant = if refresh_token.is_some() { OAuthGrant::RefreshToken } else { OAuthGrant::ClientCredentials };
            (None, None, grant)
        }
        other => {
            issues.push(
                format!("{key}.provider"),
                format!("'{other}' is not a provider (expected microsoft, google or generic)"),
            );
            (None, None, OAuthGrant::ClientCredentials)
        }
    };
    let token_url = raw.token_url.clone().or(default_url).unwrap_or_default();
    if !token_url.is_empty() {
        let loopback_http = token_url
            .strip_prefix("http://")
            .and_then(|rest| rest.split(['/', ':']).next())
            .is_some_and(|host| is_loopback(host.trim_matches(['[', ']'])));
        if !token_url.starts_with("https://") && !loopback_http {
            issues.push(format!("{key}.token_url"), "must be https:// (plain http only to a loopback address)");
        }
    }
    let mechanism = match raw.mechanism.as_str() {
        "auto" => SaslChoice::Auto,
        "xoauth2" => SaslChoice::XOAuth2,
        "oauthbearer" => SaslChoice::OAuthBearer,
        other => {
            issues.push(
                format!("{key}.mechanism"),
                format!("'{other}' is not a mechanism (expected auto, xoauth2 or oauthbearer)"),
            );
            SaslChoice::Auto
        }
    };
    if issues.0.len() > before {
        return None;
    }
    Some(OAuth2Settings {
        provider,
        token_url,
        client_id: raw.client_id.trim().to_owned(),
        grant,
        client_secret,
        client_certificate,
        refresh_token,
        scope: raw.scope.clone().or(default_scope).filter(|s| !s.trim().is_empty()),
        mechanism,
        ca_file: raw.ca_file.as_ref().map(|f| data_file(&format!("{key}.ca_file"), f, files, issues)),
    })
}

/// A file the configuration names (a CA certificate): it must exist, be readable and
/// hold something, or the problem is reported now rather than at the first connection.
fn data_file(key: &str, name: &str, files: &dyn Files, issues: &mut Issues) -> PathBuf {
    match files.read_data(name) {
        Ok(text) if text.trim().is_empty() => {
            issues.push(key, format!("{} is empty", files.resolve_data(name).display()))
        }
        Ok(_) => {}
        Err(e) => issues.push(key, e),
    }
    files.resolve_data(name)
}
