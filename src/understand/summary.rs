//! What `cspr inspect --json` shows of an understood message (no body, no child's
//! details: only whether identifiers were present).

use chrono::{DateTime, Utc};

use crate::domain::message::{PanelOutcome, Sender, Understood};

/// The `inspect --json` shape.
pub fn to_json(u: &Understood) -> serde_json::Value {
    let sender = |s: &Sender| serde_json::json!({"name": s.name, "address": s.address});
    let rfc3339 = |d: &DateTime<Utc>| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    serde_json::json!({
        "message_id": u.message_id,
        "from": sender(&u.from),
        "date": u.date.as_ref().map(rfc3339),
        "date_london": u.date_london.map(|d| d.to_string()),
        "subject": u.subject,
        "kind": u.kind.as_str(),
        "trust": u.trust.as_str(),
        "trust_reason": u.trust_reason,
        "reply_allowed": u.reply_allowed,
        "forwarded": u.forwarded.as_ref().map(|f| serde_json::json!({
            "from": sender(&f.from),
            "date": f.date.as_ref().map(rfc3339),
            "subject": f.subject,
        })),
        "notification": u.notification.as_ref().map(|n| serde_json::json!({
            "local_authority": n.local_authority,
            "incident_type": n.incident_type,
            "aware_date": n.aware_date.map(|d| d.to_string()),
            "notified_date": n.notified_date.map(|d| d.to_string()),
            "panel_reference": n.panel_reference,
            "la_reference": n.la_reference,
            "children": n.children,
            "looked_after": n.looked_after,
            "abuse_or_neglect_suspected": n.abuse_or_neglect_suspected,
            "provisional": n.provisional,
            "child_identifiers_present": !n.child_identifiers.is_empty(),
        })),
        "field_sources": u.field_sources,
        "panel_response": u.panel_outcome.map(|o: PanelOutcome| match &u.panel_sentence {
            Some(sentence) => serde_json::json!({"outcome": o, "sentence": sentence}),
            None => serde_json::json!({"outcome": o}),
        }),
        "command": u.command.as_ref().map(|c| c.command.word()),
        "near_miss": u.near_miss.as_ref().map(|n| serde_json::json!({"command": n.command.word(), "problem": n.problem, "line": n.line})),
        "case_refs": u.case_refs,
        "external_refs": u.external_refs,
        "loop_protected": u.loop_protected,
        "problems": u.problems,
    })
}
