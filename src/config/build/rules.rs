//! The rules' settings: the calendar, the clocks and the sending window, delay
//! approvals, how mail is judged, and the digests' schedules.

use super::*;

pub(super) fn approvals(raw: &super::super::raw::RawApprovals, files: &dyn Files, issues: &mut Issues) -> Approvals {
    let mut token_secret = raw.token_secret.clone().map(SecretString::from);
    if let Some(name) = &raw.token_secret_file {
        token_secret = issues.take("approvals.token_secret_file", files.read_secret(name)).map(SecretString::from);
    }
    if let Some(secret) = &token_secret
        && secret.expose_secret().trim().len() < 32
    {
        let key = if raw.token_secret_file.is_some() { "token_secret_file" } else { "token_secret" };
        issues.push(
            format!("approvals.{key}"),
            "the secret that signs approval tokens must be at least 32 bytes (e.g. `openssl rand -base64 48`)",
        );
    }
    if raw.quorum == 0 {
        issues.push("approvals.quorum", "must be at least 1");
    }
    if raw.token_valid_days == 0 {
        issues.push("approvals.token_valid_days", "must be at least 1");
    }
    if raw.request_at >= 0 {
        issues.push("approvals.request_at", "must be negative: working days before C6 is due");
    }

    Approvals {
        quorum: raw.quorum,
        token_valid_days: raw.token_valid_days,
        request_at: WorkingDays(raw.request_at),
        token_secret,
        send_statutory_notices: raw.send_statutory_notices,
        default_extension_months: raw.default_extension_months,
    }
}

/// How mail is judged, and the patterns of Panel and local-authority references.
pub(super) fn intake(raw: &RawConfig, issues: &mut Issues) -> (Intake, Vec<regex::Regex>, Vec<regex::Regex>) {
    let compile = |issues: &mut Issues, key: &str, patterns: &[String]| -> Vec<regex::Regex> {
        patterns
            .iter()
            .enumerate()
            .filter_map(|(i, p)| issues.take(format!("references.{key}[{i}]"), regex::Regex::new(p)))
            .collect()
    };
    let panel_patterns = compile(issues, "panel_patterns", &raw.references.panel_patterns);
    let la_patterns = compile(issues, "la_patterns", &raw.references.la_patterns);
    if raw.intake.authserv_id.as_deref().is_some_and(|id| id.trim().is_empty() || id.contains(';')) {
        issues.push("intake.authserv_id", "must be a host name, as the receiving server writes it");
    }
    let results_from = match raw.intake.results_from.as_str() {
        "authserv-id" => ResultsFrom::AuthservId,
        "microsoft365" => ResultsFrom::Microsoft365,
        other => {
            issues.push("intake.results_from", format!("'{other}' is not one of authserv-id, microsoft365"));
            ResultsFrom::AuthservId
        }
    };
    for (key, domains) in [
        ("tenant_domains", &raw.intake.tenant_domains),
        ("arc_signers", &raw.intake.arc_signers),
        ("partner_domains", &raw.intake.partner_domains),
    ] {
        if domains.iter().any(|d| d.trim().is_empty() || d.contains(['@', ' ', ';'])) {
            issues.push(format!("intake.{key}"), "must be domain names (hackney.gov.uk)");
        }
    }
    if raw.intake.processing_budget_seconds == 0 {
        issues.push("intake.processing_budget_seconds", "must be at least 1");
    }
    if raw.retention.unlinked_after_days == 0 {
        issues.push("retention.unlinked_after_days", "must be at least 1");
    }
    if raw.intake.max_message_bytes < 1024 {
        issues.push("intake.max_message_bytes", "must be at least 1024");
    }
    let intake = Intake {
        authserv_id: raw.intake.authserv_id.as_ref().map(|id| id.trim().to_owned()),
        results_from,
        tenant_domains: lower_domains(&raw.intake.tenant_domains),
        arc_signers: lower_domains(&raw.intake.arc_signers),
        partner_domains: lower_domains(&raw.intake.partner_domains),
        require_authentication: raw.intake.require_authentication,
        max_message_bytes: raw.intake.max_message_bytes,
        own_message_id_domain: raw.intake.own_message_id_domain.trim().to_ascii_lowercase(),
        processing_budget: std::time::Duration::from_secs(raw.intake.processing_budget_seconds),
    };
    (intake, panel_patterns, la_patterns)
}

pub(super) fn digests(raw: &super::super::raw::RawScheduler, issues: &mut Issues) -> Vec<super::super::Digest> {
    let mut digests = Vec::new();
    for (name, schedule, roles) in
        [("digest", &raw.digest, &raw.digest_roles), ("weekly", &raw.weekly, &raw.weekly_roles)]
    {
        let schedule = issues.take(format!("scheduler.{name}"), CronSchedule::parse(schedule));
        let key = if name == "digest" { "digest_roles" } else { "weekly_roles" };
        let roles: Vec<Role> = roles
            .iter()
            .enumerate()
            .filter_map(|(i, r)| issues.take(format!("scheduler.{key}[{i}]"), r.parse::<Role>()))
            .collect();
        if let Some(schedule) = schedule
            && !roles.is_empty()
        {
            digests.push(super::super::Digest { name, schedule, roles });
        }
    }
    digests
}

pub(super) fn build_calendar(
    raw: &RawConfig,
    files: &dyn Files,
    issues: &mut Issues,
) -> Option<(Calendar, CalendarSource)> {
    let mut failed = false;
    let imported = match &raw.calendar.holidays_file {
        Some(name) => match files.read_data(name).and_then(|text| govuk::parse(&text).map_err(|e| e.to_string())) {
            Ok(holidays) => holidays,
            Err(message) => {
                issues.push("calendar.holidays_file", message);
                failed = true;
                Vec::new()
            }
        },
        None => Vec::new(),
    };
    let mut local = Vec::new();
    for (i, day) in raw.calendar.extra_non_working_days.iter().enumerate() {
        let (date, title) = match day {
            RawExtraDay::Date(date) => (date.as_str(), "Local non-working day"),
            RawExtraDay::Titled { date, title } => (date.as_str(), title.as_str()),
        };
        match parse_iso_date(date) {
            Ok(date) => {
                local.push(Holiday { date, title: title.to_owned(), substitute: false, source: HolidaySource::Local })
            }
            Err(e) => {
                issues.push(format!("calendar.extra_non_working_days[{i}]"), e.to_string());
                failed = true;
            }
        }
    }
    if failed {
        return None;
    }
    let source = CalendarSource {
        holidays_file: raw.calendar.holidays_file.as_ref().map(PathBuf::from),
        extra_non_working_days: local.len(),
    };
    Some((Calendar::new(imported, local), source))
}

pub(super) fn lower_domains(domains: &[String]) -> Vec<String> {
    domains.iter().map(|d| d.trim().trim_end_matches('.').to_ascii_lowercase()).collect()
}

pub(super) fn window(raw: &RawWindow, path: &str, issues: &mut Issues, fallback: SendingWindow) -> SendingWindow {
    let time = |issues: &mut Issues, key: &str, text: &str| {
        let parsed =
            NaiveTime::parse_from_str(text, "%H:%M").map_err(|_| format!("'{text}' is not a time (expected HH:MM)"));
        issues.take(format!("{path}.{key}"), parsed)
    };
    let start = time(issues, "start", &raw.start);
    // `24:00` closes the window at midnight: open to the end of the day.
    let end = if raw.end == "24:00" { Some(None) } else { time(issues, "end", &raw.end).map(Some) };
    match (start, end) {
        (Some(start), Some(end)) if end.is_none_or(|end| start < end) => {
            SendingWindow { start, end, working_days_only: raw.working_days_only }
        }
        (Some(_), Some(_)) => {
            issues.push(format!("{path}.end"), "must be later than start");
            fallback
        }
        _ => fallback,
    }
}

pub(super) fn build_clocks(
    configured: BTreeMap<String, RawClock>,
    window_default: SendingWindow,
    issues: &mut Issues,
) -> Vec<ClockDef> {
    let mut clocks = default_clocks();
    for clock in &mut clocks {
        clock.sending_window = window_default;
    }
    for (key, over) in configured {
        let path = format!("clocks.{key}");
        let Some(id) = issues.take(&path, key.parse::<ClockId>()) else { continue };
        let Some(def) = clocks.iter_mut().find(|c| c.id == id) else { continue };
        apply_clock(def, over, &path, issues);
    }
    clocks
}

pub(super) fn apply_clock(def: &mut ClockDef, over: RawClock, path: &str, issues: &mut Issues) {
    if let Some(enabled) = over.enabled {
        def.enabled = enabled;
    }
    if let Some(title) = over.title {
        def.title = title;
    }
    if let Some(start) = over.start {
        let parsed = serde_json::from_value::<StartEvent>(serde_json::Value::String(start.clone())).map_err(|_| {
            format!(
                "'{start}' is not a start event (expected la_aware, notified_to_panel, panel_disagrees, cspr_decision, request_received or planned_publication)"
            )
        });
        if let Some(start) = issues.take(format!("{path}.start"), parsed) {
            def.start = start;
        }
    }
    let mut rules = Vec::new();
    if let Some(n) = over.working_days {
        rules.push(("working_days", Some(DueRule::WorkingDaysAfter(n)), n));
    }
    if let Some(n) = over.working_days_before {
        rules.push(("working_days_before", Some(DueRule::WorkingDaysBefore(n)), n));
    }
    if let Some(n) = over.months {
        rules.push(("months", Some(DueRule::CalendarMonths(n)), n));
    }
    if let Some(text) = &over.schedule {
        let parsed = issues
            .take(format!("{path}.schedule"), CronSchedule::parse(text))
            .map(|s| DueRule::NextScheduled(Box::new(s)));
        rules.push(("schedule", parsed, 1));
    }
    match rules.as_slice() {
        [] => {}
        [(key, rule, n)] => {
            if *n == 0 {
                issues.push(format!("{path}.{key}"), "must be at least 1");
            } else if let Some(rule) = rule {
                def.due = rule.clone();
            }
        }
        many => {
            let keys: Vec<&str> = many.iter().map(|(k, _, _)| *k).collect();
            issues.push(
                path,
                format!(
                    "give one of working_days, working_days_before, months or schedule, not {}",
                    keys.join(" and ")
                ),
            );
        }
    }
    if let Some(amber) = over.amber_within {
        def.amber_within = amber;
    }
    if let Some(steps) = over.reminders {
        def.reminders = build_steps(&steps, &format!("{path}.reminders"), issues);
    }
    if let Some(steps) = over.escalations {
        def.escalations = build_steps(&steps, &format!("{path}.escalations"), issues);
    }
    if let Some(raw) = over.sending_window {
        def.sending_window = window(&raw, &format!("{path}.sending_window"), issues, def.sending_window);
    }
}

pub(super) fn build_steps(raw: &[RawStep], path: &str, issues: &mut Issues) -> Vec<Step> {
    raw.iter()
        .enumerate()
        .filter_map(|(i, step)| {
            let to = issues.take(format!("{path}[{i}].to"), step.to.parse::<Role>())?;
            if step.every == Some(0) {
                issues.push(format!("{path}[{i}].every"), "must be at least 1");
                return None;
            }
            Some(Step { to, at: WorkingDays(step.at), every: step.every, urgent: step.urgent })
        })
        .collect()
}
