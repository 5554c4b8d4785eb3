//! Any sequence of messages — unauthorised senders, duplicates, events out of order —
//! leaves every case valid. Pure: the decision and matching run without a database.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use cspr::config::Config;
use cspr::domain::Role;
use cspr::domain::case::{CaseKind, ClockStatus};
use cspr::domain::case::{CaseRef, CaseState, ReviewDecision};
use cspr::domain::clock::ClockId;
use cspr::domain::command::COMMANDS;
use cspr::domain::message::{CommandLine, Kind, NotificationFields, PanelOutcome, Trust, Understood};
use cspr::outbound::Templates;
use cspr::protocol::{
    Context, Incoming, Intent, Lookups, Match, Recipient, Target, clock_steps, decide, duty_intents, match_case,
    on_tick,
};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Ev {
    Notification { panel: u8, trusted: bool, days: u8 },
    Command { word: usize, arg: u8, sender: u8, trusted: bool, case: u8, days: u8 },
    Panel { disagree: bool, case: u8, trusted: bool },
    Repeat(u8),
}

const SENDERS: [&str; 5] = [
    "spa@hackney.gov.uk",
    "icsc@hackney.gov.uk",
    "slt.chair@hackney.gov.uk",
    "worker@hackney.gov.uk",
    "stranger@example.net",
];

fn event() -> impl Strategy<Value = Ev> {
    prop_oneof![
        (0u8..3, any::<bool>(), 0u8..20).prop_map(|(panel, trusted, days)| Ev::Notification { panel, trusted, days }),
        (0..COMMANDS.len(), 0u8..4, 0u8..5, any::<bool>(), 0u8..3, 0u8..200).prop_map(
            |(word, arg, sender, trusted, case, days)| Ev::Command { word, arg, sender, trusted, case, days }
        ),
        (any::<bool>(), 0u8..3, any::<bool>()).prop_map(|(disagree, case, trusted)| Ev::Panel {
            disagree,
            case,
            trusted
        }),
        (0u8..10).prop_map(Ev::Repeat),
    ]
}

fn base_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 2).unwrap()
}

fn understood(ev: &Ev) -> Understood {
    let mut u = Understood::empty(Vec::new());
    let trust = |t: bool| if t { Trust::Trusted } else { Trust::Untrusted };
    match ev {
        Ev::Notification { panel, trusted, days } => {
            let aware = base_day() + Duration::days(i64::from(*days));
            u.kind = Kind::Notification;
            u.trust = trust(*trusted);
            u.from.address = Some("worker@hackney.gov.uk".into());
            u.notification = Some(NotificationFields {
                aware_date: Some(aware),
                notified_date: Some(aware + Duration::days(2)),
                panel_reference: Some(format!("SIN-2026-0000{panel}")),
                ..NotificationFields::default()
            });
        }
        Ev::Command { word, arg, sender, trusted, case, days } => {
            let (command, word) = (COMMANDS[*word].command, COMMANDS[*word].word);
            let date = (base_day() + Duration::days(i64::from(*days))).format("%d/%m/%Y").to_string();
            let rest = match (word, arg) {
                ("DECISION", 0) => format!("CSPR {date}"),
                ("DECISION", 1) => "NO-CSPR".into(),
                ("DECISION", _) => "NATIONAL".into(),
                ("SUBGROUP-DECISION", _) => "REVIEW".into(),
                ("PUBLISHED", _) => format!("https://example.org/report {date}"),
                ("PUBLICATION-DATE" | "DELAY", _) => format!("{date} a reason"),
                ("NOTE" | "CLOSE" | "REOPEN" | "NOT-PUBLISHING" | "DECLINE", _) => "a reason".into(),
                ("NATIONAL", 0) => format!("YES {date}"),
                ("NATIONAL", _) => "NO".into(),
                ("NOTICE-SENT", 0) => format!("DELAY {date}"),
                ("NOTICE-SENT", _) => "NON-PUBLICATION".into(),
                (_, 0) => String::new(),
                _ => date,
            };
            u.kind = Kind::StaffCommand;
            u.trust = trust(*trusted);
            u.from.address = Some(SENDERS[usize::from(*sender)].into());
            u.case_refs = vec![format!("CHSCP-2026-00{}", case + 1)];
            u.command = Some(CommandLine { command, rest });
        }
        Ev::Panel { disagree, case, trusted } => {
            u.kind = Kind::PanelResponse;
            u.trust = trust(*trusted);
            u.from.address = Some("Mailbox.NationalReviewPanel@education.gov.uk".into());
            u.case_refs = vec![format!("CHSCP-2026-00{}", case + 1)];
            u.panel_outcome = Some(if *disagree { PanelOutcome::Disagree } else { PanelOutcome::Agree });
        }
        Ev::Repeat(_) => {}
    }
    u
}

/// Every command an email suggests (a line that starts with a command word) is one each
/// of its recipients may give, and applies to the case (no SUBMITTED without a C3).
fn suggestions_fit(
    intent: &Intent,
    case: Option<&CaseState>,
    config: &Config,
    templates: &Templates,
) -> Result<(), String> {
    let mut facts = serde_json::to_value(&intent.facts).map_err(|e| e.to_string())?;
    facts["partnership"] =
        serde_json::json!({"name": config.partnership.name, "short_name": config.partnership.short_name});
    facts["referral_advice"] = serde_json::json!(config.partnership.referral_advice);
    let text = templates.render(&intent.template, &facts).map_err(|e| e.to_string())?.text;
    let roles: Vec<Vec<Role>> = intent
        .to
        .iter()
        .map(|r| match r {
            Recipient::Role(role) => vec![*role],
            Recipient::Address(a) => {
                cspr::domain::EmailAddress::parse(a).map(|a| config.roles_of(&a)).unwrap_or_default()
            }
        })
        .collect();
    for line in text.lines() {
        let word = line.split_whitespace().next().unwrap_or_default();
        let Some(spec) = COMMANDS.iter().find(|c| c.word == word) else { continue };
        let allowed = config.protocol_rules().commands.roles(spec.command);
        if let Some(who) = roles.iter().find(|rs| !rs.iter().any(|r| allowed.contains(r))) {
            return Err(format!("{} asks {who:?} for {word}, which they may not give", intent.template));
        }
        if word == "SUBMITTED" && case.is_some_and(|c| !c.clocks.iter().any(|k| k.clock == ClockId::C3)) {
            return Err(format!("{} asks for SUBMITTED on a case with no C3", intent.template));
        }
    }
    Ok(())
}

fn config() -> Config {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inspect/cspr.toml");
    cspr::config::load(&cspr::config::Sources { file: Some(path), env: Vec::new(), credentials_dir: None }).unwrap()
}

fn valid(case: &CaseState, config: &Config) -> Result<(), String> {
    let cspr = matches!(case.decision, Some((ReviewDecision::Cspr, _)));
    for clock in &case.clocks {
        if clock.clock == ClockId::C6 && !cspr {
            return Err(format!("{}: C6 without a CSPR decision", case.reference));
        }
        let before = clock.clock == ClockId::C8;
        if (!before && clock.due < clock.started) || (before && clock.due > clock.started) {
            return Err(format!(
                "{}: {} due {} against start {}",
                case.reference, clock.clock, clock.due, clock.started
            ));
        }
        if clock.is_running() {
            let def = config.clock(clock.clock).ok_or("unknown clock")?;
            if def.completed_by.is_empty() || !def.completed_by.iter().all(|w| COMMANDS.iter().any(|c| c.word == w)) {
                return Err(format!("{}: running {} has no command that completes it", case.reference, clock.clock));
            }
        }
    }
    // Every notification case has a C3 that runs, was met, or stopped with the case —
    // or none by footnote 1, abuse or neglect *explicitly* not suspected.
    if case.kind == CaseKind::Incident {
        let c3 = case.clocks.iter().find(|c| c.clock == ClockId::C3);
        let footnote_1 = case.dfe_ofsted_only && case.notification.abuse_or_neglect_suspected == Some(false);
        let fine = match c3 {
            Some(c) => c.status != ClockStatus::Stopped || case.is_closed(),
            None => footnote_1,
        };
        if !fine {
            return Err(format!("{}: a notification case without its C3 ({c3:?})", case.reference));
        }
    }
    if case
        .clocks
        .iter()
        .filter(|c| c.is_running())
        .map(|c| c.clock)
        .collect::<Vec<_>>()
        .windows(2)
        .any(|w| w[0] == w[1])
    {
        return Err("one clock running twice".into());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn any_sequence_of_messages_leaves_every_case_valid(events in proptest::collection::vec(event(), 1..40)) {
        let config = config();
        let templates = Templates::load(None).unwrap();
        let mut cases: BTreeMap<String, CaseState> = BTreeMap::new();
        let mut history: Vec<Ev> = Vec::new();
        let mut next = 1;
        let now: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-11-20T10:00:00Z").unwrap().with_timezone(&Utc);
        for (i, ev) in events.iter().enumerate() {
            let ev = match ev {
                Ev::Repeat(n) if !history.is_empty() => history[usize::from(*n) % history.len()].clone(),
                Ev::Repeat(_) => continue,
                other => other.clone(),
            };
            history.push(ev.clone());
            let u = understood(&ev);
            let mut found = Lookups::default();
            for tag in &u.case_refs {
                match CaseRef::parse(tag).ok().filter(|r| cases.contains_key(r.as_str())) {
                    Some(r) => found.by_tag.push(r),
                    None => found.unknown_tags.push(tag.clone()),
                }
            }
            if let Some(panel) = u.notification.as_ref().and_then(|n| n.panel_reference.clone()) {
                found.by_external.extend(cases.values().filter(|c| c.notification.panel_reference.as_deref() == Some(&panel)).map(|c| c.reference.clone()));
            }
            let ctx = Context { now: now + Duration::days(i as i64), rules: config.protocol_rules(), released_by: None };
            let incoming = Incoming { stored_id: i as i64, understood: &u, arrived_at: ctx.now, cause: None };
            let target = match match_case(u.kind, &found) {
                Match::Existing(r) => Target::Existing(Box::new(cases[r.as_str()].clone())),
                Match::New => Target::New(CaseRef::new("CHSCP", 2026, next, 3)),
                Match::NoCase => Target::None,
                Match::Triage { .. } => continue,
            };
            let before = match &target { Target::Existing(state) => Some((**state).clone()), _ => None };
            let outcome = decide(target, &incoming, &ctx);
            for intent in &outcome.intents {
                if let Err(problem) = suggestions_fit(intent, outcome.case.as_ref().or(before.as_ref()), &config, &templates) {
                    return Err(TestCaseError::fail(problem));
                }
            }
            if u.trust != Trust::Trusted {
                prop_assert!(outcome.case.is_none() || outcome.case == before, "an untrusted sender changed a case");
            }
            if let Some(case) = outcome.case {
                if before.is_none() {
                    next += 1;
                }
                prop_assert!(outcome.triage.is_none() || Some(&case) == before.as_ref(), "triage changed a case");
                if let Err(problem) = valid(&case, &config) {
                    return Err(TestCaseError::fail(problem));
                }
                cases.insert(case.reference.to_string(), case);
            }
        }
        // Time passing: the scheduler asks the ICSC once per due date, and never asks the
        // SLT itself (a declined delay is never re-requested for the same due date).
        for case in cases.values() {
            for months in [1, 3, 5, 6, 9] {
                let later = now + Duration::days(30 * months);
                let ctx = Context { now: later, rules: config.protocol_rules(), released_by: None };
                // Reminders, escalations and duty reminders suggest only what their readers may send.
                let steps = clock_steps(case, &ctx).into_iter().flat_map(|c| c.intents(case, &ctx));
                for (intent, _) in steps.chain(duty_intents(case, &ctx)) {
                    if let Err(problem) = suggestions_fit(&intent, Some(case), &config, &templates) {
                        return Err(TestCaseError::fail(problem));
                    }
                }
                let Some(outcome) = on_tick(case, &ctx) else { continue };
                prop_assert!(outcome.intents.iter().all(|i| i.template != "approval_request"), "the scheduler asked the SLT");
                for intent in &outcome.intents {
                    if let Err(problem) = suggestions_fit(intent, outcome.case.as_ref(), &config, &templates) {
                        return Err(TestCaseError::fail(problem));
                    }
                }
                let asked = outcome.case.as_ref().unwrap();
                prop_assert!(on_tick(asked, &ctx).is_none(), "asked twice about the same due date");
            }
        }
    }
}
