//! Email wording: one template per purpose, shipped in `templates/` (first line
//! `Subject: …`, then the text), overridable by files of the same name in a configured
//! folder. The HTML part is the text, escaped, in paragraphs, unless `NAME.html` exists;
//! values in an HTML template are escaped automatically (a fact can hold what a sender
//! wrote, and must never become markup).

use std::collections::BTreeMap;
use std::path::Path;

use minijinja::{AutoEscape, Environment};

/// An environment whose templates escape every value as HTML unless marked safe.
fn html_environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env
}

macro_rules! shipped {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/", $name, ".txt")))),*]
    };
}

/// The templates shipped with cspr.
pub const SHIPPED: &[(&str, &str)] = shipped!(
    "acknowledgement",
    "new_case",
    "late_notice",
    "sos_notice_draft",
    "panel_disagrees",
    "panel_agrees",
    "panel_unclear",
    "panel_more_information",
    "decision_revised",
    "dates_changed",
    "duty_reminder",
    "panel_response_reported",
    "review_started",
    "delay_question",
    "command_done",
    "command_refused",
    "command_answer",
    "correction_proposed",
    "reply_filed",
    "la_reply",
    "consideration_received",
    "consideration_new",
    "consideration_provisional",
    "consideration_criteria",
    "referral_alert",
    "referral_reply",
    "bounce_alert",
    "not_publishing_notice_draft",
    "approval_request",
    "delay_notice_draft",
    "reminder",
    "escalation",
    "dead_letter",
    "delay_declined",
    "delay_notice",
    "digest",
    "weekly",
    "triage_alert",
    "mailbox_unreachable",
    "mailbox_recovered",
    "filing_failed",
    "storage_recovered",
);

/// Shipped HTML parts (the others are made from the text).
pub const SHIPPED_HTML: &[(&str, &str)] =
    &[("digest", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/digest.html")))];

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("no template '{0}'")]
    Missing(String),
    #[error("template '{name}' has no 'Subject:' first line")]
    NoSubject { name: String },
    #[error("cannot render template '{name}': {cause}")]
    Render { name: String, cause: minijinja::Error },
    #[error("cannot read template {path}: {cause}")]
    Read { path: String, cause: std::io::Error },
}

/// A rendered email body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The templates in force.
#[derive(Debug, Clone)]
pub struct Templates {
    text: BTreeMap<String, String>,
    html: BTreeMap<String, String>,
}

impl Templates {
    /// The shipped templates, with any `NAME.txt` / `NAME.html` in `overrides` in their place.
    pub fn load(overrides: Option<&Path>) -> Result<Self, TemplateError> {
        let mut text: BTreeMap<String, String> =
            SHIPPED.iter().map(|(n, t)| ((*n).to_owned(), (*t).to_owned())).collect();
        let mut html = BTreeMap::new();
        for (name, body) in SHIPPED_HTML {
            html.insert((*name).to_owned(), (*body).to_owned());
        }
        if let Some(dir) = overrides {
            for (name, _) in SHIPPED {
                for (ext, map) in [("txt", &mut text), ("html", &mut html)] {
                    let path = dir.join(format!("{name}.{ext}"));
                    if path.exists() {
                        let body = std::fs::read_to_string(&path).map_err(|source| TemplateError::Read {
                            path: path.display().to_string(),
                            cause: source,
                        })?;
                        map.insert((*name).to_owned(), body);
                    }
                }
            }
        }
        let templates = Self { text, html };
        templates.check()?;
        Ok(templates)
    }

    /// Every template parses and has a subject (for `check-config` and start-up).
    pub fn check(&self) -> Result<(), TemplateError> {
        let env = Environment::new();
        for (name, body) in self.text.iter().chain(&self.html) {
            if self.text.contains_key(name) && !self.text[name].starts_with("Subject:") {
                return Err(TemplateError::NoSubject { name: name.clone() });
            }
            env.template_from_str(body)
                .map_err(|source| TemplateError::Render { name: name.clone(), cause: source })?;
        }
        Ok(())
    }

    /// Renders `name` with `context`.
    pub fn render(&self, name: &str, context: &serde_json::Value) -> Result<Rendered, TemplateError> {
        let source = self.text.get(name).ok_or_else(|| TemplateError::Missing(name.to_owned()))?;
        let env = Environment::new();
        let html_env = html_environment();
        let render = |env: &Environment, body: &str| {
            env.render_str(body, context)
                .map_err(|source| TemplateError::Render { name: name.to_owned(), cause: source })
        };
        let full = render(&env, source)?;
        let (first, rest) = full.split_once('\n').unwrap_or((&full, ""));
        let subject =
            first.strip_prefix("Subject:").ok_or_else(|| TemplateError::NoSubject { name: name.to_owned() })?;
        let mut text = rest.trim().to_owned() + "\n";
        // Every email to staff ends with the commands that apply now.
        if let Some(footer) = context.get("footer").and_then(|f| f.as_str()).filter(|f| !f.trim().is_empty()) {
            text.push_str("\n-- \nReply with one of these as the first line of your reply:\n\n");
            for line in footer.lines() {
                text.push_str(&format!("    {line}\n"));
            }
        }
        let html = match self.html.get(name) {
            Some(body) => render(&html_env, body)?,
            None => paragraphs(&text),
        };
        Ok(Rendered { subject: subject.split_whitespace().collect::<Vec<_>>().join(" "), text, html })
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn paragraphs(text: &str) -> String {
    let body: Vec<String> = text
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!("<p>{}</p>", escape(p.trim()).replace('\n', "<br>\n")))
        .collect();
    format!(
        "<!DOCTYPE html>\n<html><body style=\"font-family: Arial, sans-serif\">\n{}\n</body></html>\n",
        body.join("\n")
    )
}
