//! The staff commands given by reply: one table of the words, what follows each, and
//! the roles that may give it by default (configuration can change who may give any
//! command). Understanding, the protocol and the templates all read this table.

use std::collections::BTreeMap;
use std::fmt;

use super::case_ref::CaseRef;
pub use super::facts::choice;
use super::facts::{incident_type, read_facts, read_triage};
use super::{Role, parse_uk_date};

/// A staff command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Command {
    Submitted,
    Decision,
    National,
    MeetingHeld,
    NotifiedOrgs,
    FamilyContacted,
    SosNotified,
    ReportShared,
    RequestedReports,
    NoticeSent,
    RepositorySent,
    SubgroupDecision,
    PublicationDate,
    CopySent,
    Published,
    NotPublishing,
    Delay,
    Note,
    Close,
    Reopen,
    Help,
    Status,
    Approve,
    Decline,
    Open,
    Triage,
    Confirm,
    Merge,
    Aware,
    PanelNotified,
    Reference,
    LaReference,
    Type,
    LookedAfter,
    AbuseSuspected,
    Children,
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct CommandSpec {
    pub command: Command,
    /// The word that starts the reply's first line.
    pub word: &'static str,
    /// What follows the word, as the README and replies show it.
    pub args: &'static str,
    /// Who may give it unless configuration says otherwise.
    pub roles: &'static [Role],
    /// Who may propose it: their line goes to the SPA with the line to send to accept it.
    pub proposed_by: &'static [Role],
    /// A choice that only some of `roles` may make (`ABUSE-SUSPECTED NO`, which stops C3
    /// for a looked-after child's death: the ICSC's alone).
    pub narrowed: Option<(&'static str, &'static [Role])>,
}

const fn spec(command: Command, word: &'static str, args: &'static str, roles: &'static [Role]) -> CommandSpec {
    CommandSpec { command, word, args, roles, proposed_by: &[], narrowed: None }
}

/// A correction of a case's facts: made by the SPA or the ICSC, proposed by business
/// support or the forwarding local authority.
const fn correction(command: Command, word: &'static str, args: &'static str) -> CommandSpec {
    CommandSpec {
        command,
        word,
        args,
        roles: &[Role::Spa, Role::Icsc],
        proposed_by: &[Role::BusinessSupport, Role::LocalAuthority],
        narrowed: None,
    }
}

/// Staff who run the mailbox: they open cases and resolve triage.
const INTAKE: &[Role] = &[Role::Spa, Role::Icsc, Role::BusinessSupport];

/// Every command, in the order the README lists them.
pub const COMMANDS: &[CommandSpec] = &[
    spec(Command::Submitted, "SUBMITTED", "[date]", &[Role::Spa, Role::Icsc]),
    spec(Command::Decision, "DECISION", "CSPR|NO-CSPR [date] [reason]", &[Role::Icsc, Role::Spa]),
    spec(Command::National, "NATIONAL", "YES|NO [date]", &[Role::Icsc, Role::Spa]),
    spec(Command::MeetingHeld, "MEETING-HELD", "[date]", &[Role::Spa, Role::Icsc]),
    spec(Command::NotifiedOrgs, "NOTIFIED-ORGS", "[date]", &[Role::Spa]),
    spec(Command::FamilyContacted, "FAMILY-CONTACTED", "[date]", &[Role::Spa]),
    spec(Command::SosNotified, "SOS-NOTIFIED", "[date]", &[Role::Spa]),
    spec(Command::ReportShared, "REPORT-SHARED", "[date]", &[Role::Spa]),
    spec(Command::RequestedReports, "REQUESTED-REPORTS", "[date]", &[Role::Spa]),
    spec(Command::NoticeSent, "NOTICE-SENT", "DELAY|NON-PUBLICATION [date]", &[Role::Spa, Role::Icsc]),
    spec(Command::RepositorySent, "REPOSITORY-SENT", "[date]", &[Role::Spa]),
    spec(Command::SubgroupDecision, "SUBGROUP-DECISION", "REVIEW|NO-REVIEW [date]", &[Role::Spa]),
    spec(Command::PublicationDate, "PUBLICATION-DATE", "<date>", &[Role::Spa, Role::Icsc]),
    spec(Command::CopySent, "COPY-SENT", "[date]", &[Role::Spa]),
    spec(Command::Published, "PUBLISHED", "<url> [date]", &[Role::Spa, Role::Icsc]),
    spec(Command::NotPublishing, "NOT-PUBLISHING", "<reason>", &[Role::Icsc]),
    spec(Command::Delay, "DELAY", "<new date> <reason>", &[Role::Icsc]),
    correction(Command::Aware, "AWARE", "<date>"),
    correction(Command::PanelNotified, "PANEL-NOTIFIED", "<date>"),
    correction(Command::Reference, "REFERENCE", "<Panel reference>"),
    correction(Command::LaReference, "LA-REFERENCE", "<reference>"),
    correction(Command::Type, "TYPE", "death|serious harm|looked-after death|care leaver death"),
    correction(Command::LookedAfter, "LOOKED-AFTER", "YES|NO"),
    CommandSpec {
        narrowed: Some(("NO", &[Role::Icsc])),
        ..correction(Command::AbuseSuspected, "ABUSE-SUSPECTED", "YES|NO|UNKNOWN")
    },
    correction(Command::Children, "CHILDREN", "<number>"),
    spec(
        Command::Open,
        "OPEN",
        "NOTIFICATION|CONSIDERATION <authority> [aware <date>] [notified <date>] [ref <reference>] [type <incident type>]",
        INTAKE,
    ),
    spec(
        Command::Triage,
        "TRIAGE",
        "<number> ATTACH <case> | <number> NEW-CASE NOTIFICATION|CONSIDERATION [aware <date>] [notified <date>] [ref <reference>] [la <authority>] | <number> IGNORE <reason>",
        INTAKE,
    ),
    spec(Command::Confirm, "CONFIRM", "", &[Role::Spa, Role::Icsc]),
    spec(Command::Merge, "MERGE", "<case>", &[Role::Spa, Role::Icsc]),
    spec(Command::Note, "NOTE", "<text>", &[Role::Spa, Role::Icsc, Role::Slt, Role::BusinessSupport]),
    spec(Command::Close, "CLOSE", "<reason>", &[Role::Icsc]),
    spec(Command::Reopen, "REOPEN", "<reason>", &[Role::Icsc]),
    spec(Command::Help, "HELP", "", &[Role::Spa, Role::Icsc, Role::Slt, Role::BusinessSupport]),
    spec(Command::Status, "STATUS", "", &[Role::Spa, Role::Icsc, Role::Slt, Role::BusinessSupport]),
    spec(Command::Approve, "APPROVE", "<token>", &[Role::Slt]),
    spec(Command::Decline, "DECLINE", "<token> <reason>", &[Role::Slt]),
];

impl Command {
    fn spec(self) -> &'static CommandSpec {
        match COMMANDS.iter().find(|s| s.command == self) {
            Some(spec) => spec,
            None => unreachable!("every command is in the table"),
        }
    }

    /// The command whose word this is (upper-case, as written by staff after folding).
    pub fn parse(word: &str) -> Option<Command> {
        COMMANDS.iter().find(|s| s.word == word).map(|s| s.command)
    }

    pub fn word(self) -> &'static str {
        self.spec().word
    }

    pub fn args(self) -> &'static str {
        self.spec().args
    }

    pub fn default_roles(self) -> &'static [Role] {
        self.spec().roles
    }

    pub fn proposed_by(self) -> &'static [Role] {
        self.spec().proposed_by
    }

    /// Whether this command only works on a case (not OPEN or TRIAGE, which name none).
    pub fn on_a_case(self) -> bool {
        !matches!(self, Command::Open | Command::Triage)
    }

    /// Whether it corrects one of the case's facts.
    pub fn is_correction(self) -> bool {
        !self.proposed_by().is_empty()
    }

    /// Whether `rest` (what follows the word) is what this command takes; if not, what
    /// is wrong, in words for the sender.
    pub fn check_args(self, rest: &str) -> Result<(), String> {
        let rest = rest.trim();
        let (first, after) = match rest.find(char::is_whitespace) {
            Some(i) => (&rest[..i], rest[i..].trim()),
            None => (rest, ""),
        };
        let optional_date = |text: &str| {
            if text.is_empty() || parse_uk_date(text).is_some() {
                Ok(())
            } else {
                Err(format!("'{text}' is not a date (for example 24/11/2026 or 24 November 2026)"))
            }
        };
        let needs = |what: &str| Err(format!("{} needs {what}", self.word()));
        match self {
            Command::Submitted
            | Command::MeetingHeld
            | Command::NotifiedOrgs
            | Command::FamilyContacted
            | Command::SosNotified
            | Command::ReportShared
            | Command::RequestedReports
            | Command::RepositorySent
            | Command::CopySent => optional_date(rest),
            Command::NoticeSent => match choice(rest, NOTICES) {
                Some((_, date)) => optional_date(date),
                None => needs("DELAY or NON-PUBLICATION"),
            },
            // A reason may follow the date: "DECISION CSPR 02/03/2027 the Panel's view".
            Command::Decision => match choice(rest, DECISIONS) {
                Some((_, after)) => match after.split_whitespace().next() {
                    Some(first) if parse_uk_date(first).is_none() && first.contains(['/', '-']) => optional_date(first),
                    _ => Ok(()),
                },
                None => needs("CSPR or NO-CSPR"),
            },
            Command::National => match choice(rest, NATIONAL_ANSWERS) {
                Some((_, date)) => optional_date(date),
                None => needs("YES or NO"),
            },
            Command::SubgroupDecision => match choice(rest, SUBGROUP_DECISIONS) {
                Some((_, date)) => optional_date(date),
                None => needs("REVIEW or NO-REVIEW"),
            },
            Command::PublicationDate if parse_uk_date(rest).is_some() => Ok(()),
            Command::PublicationDate => needs("the planned date"),
            Command::Published if first.starts_with("https://") || first.starts_with("http://") => optional_date(after),
            Command::Published => needs("the link to the report"),
            Command::Delay if parse_uk_date(first).is_none() => needs("the new date, then the reason"),
            Command::Delay if after.is_empty() => needs("the reason after the new date"),
            Command::NotPublishing | Command::Note | Command::Close | Command::Reopen if rest.is_empty() => {
                needs("the text")
            }
            Command::Approve | Command::Decline if rest.is_empty() => needs("the token from the request"),
            Command::Delay | Command::NotPublishing | Command::Note | Command::Close | Command::Reopen => Ok(()),
            Command::Approve | Command::Decline => Ok(()),
            Command::Help | Command::Status | Command::Confirm if rest.is_empty() => Ok(()),
            Command::Help | Command::Status | Command::Confirm => {
                Err(format!("{} takes nothing after it", self.word()))
            }
            Command::Open => read_facts(rest, true).map(drop),
            Command::Triage => read_triage(rest).map(drop),
            Command::Merge => CaseRef::parse(rest).map(drop).map_err(|_| format!("'{rest}' is not a case reference")),
            Command::Aware | Command::PanelNotified if parse_uk_date(rest).is_some() => Ok(()),
            Command::Aware | Command::PanelNotified => needs("the date"),
            Command::Reference | Command::LaReference if !rest.is_empty() && after.is_empty() => Ok(()),
            Command::Reference | Command::LaReference => needs("the reference, as one word"),
            Command::Type => incident_type(rest).map(drop),
            Command::LookedAfter => match choice(rest, NATIONAL_ANSWERS) {
                Some((_, "")) => Ok(()),
                _ => needs("YES or NO"),
            },
            Command::AbuseSuspected => match choice(rest, SUSPECTED) {
                Some((_, "")) => Ok(()),
                _ => needs("YES, NO or UNKNOWN"),
            },
            Command::Children => match rest.parse::<u32>() {
                Ok(1..=20) => Ok(()),
                _ => needs("the number of children (1 to 20)"),
            },
        }
    }

    /// The line to send, as the README's table shows it (`SUBMITTED [date]`).
    pub fn usage(self) -> String {
        if self.args().is_empty() { self.word().to_owned() } else { format!("{} {}", self.word(), self.args()) }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

impl serde::Serialize for Command {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.word())
    }
}

/// The choices of DECISION, NATIONAL and SUBGROUP-DECISION. `DECISION NATIONAL` is still
/// read, as `NATIONAL YES` (3.4's question is asked apart from the decision).
pub const DECISIONS: &[&str] = &["NO-CSPR", "CSPR", "NATIONAL"];
pub const NATIONAL_ANSWERS: &[&str] = &["YES", "NO"];
/// The notices NOTICE-SENT records (8.1, 9.1).
pub const NOTICES: &[&str] = &["NON-PUBLICATION", "DELAY"];
pub const SUBGROUP_DECISIONS: &[&str] = &["NO-REVIEW", "REVIEW"];
/// ABUSE-SUSPECTED's answers.
pub const SUSPECTED: &[&str] = &["YES", "NO", "UNKNOWN"];

/// Who may give each command: the table's defaults, with configuration's changes.
#[derive(Debug, Clone, Default)]
pub struct CommandRoles {
    overrides: BTreeMap<Command, Vec<Role>>,
}

impl CommandRoles {
    /// `command` may be given only by `roles`.
    pub fn set(&mut self, command: Command, roles: Vec<Role>) {
        self.overrides.insert(command, roles);
    }

    pub fn roles(&self, command: Command) -> &[Role] {
        self.overrides.get(&command).map_or(command.default_roles(), Vec::as_slice)
    }

    /// Who may give `command` with these arguments: a narrowed choice only the roles
    /// the table narrows it to (among those configured).
    pub fn roles_for(&self, command: Command, rest: &str) -> Vec<Role> {
        let mut roles = self.roles(command).to_vec();
        if let Some((option, only)) = command.spec().narrowed
            && choice(rest, &[option]).is_some()
        {
            roles.retain(|r| only.contains(r));
        }
        roles
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_one_row_and_its_word_reads_back() {
        for spec in COMMANDS {
            assert_eq!(COMMANDS.iter().filter(|s| s.command == spec.command).count(), 1, "{}", spec.word);
            assert_eq!(Command::parse(spec.word), Some(spec.command));
            assert!(!spec.roles.is_empty(), "{} may be given by someone", spec.word);
        }
        assert_eq!(Command::parse("CLOSED"), None);
    }

    #[test]
    fn a_command_takes_only_the_arguments_it_is_written_with() {
        assert_eq!(Command::Submitted.check_args(""), Ok(()));
        assert_eq!(Command::Submitted.check_args("18/03/2027"), Ok(()));
        assert!(Command::Submitted.check_args("today, thanks").is_err());
        assert!(Command::Submitted.check_args("31/02/2027").is_err(), "no such day");
        assert_eq!(Command::Decision.check_args("CSPR 20/02/2027"), Ok(()));
        assert_eq!(Command::Decision.check_args("no CSPR"), Ok(()));
        assert_eq!(choice("No CSPR 09/03/2027", DECISIONS), Some(("NO-CSPR", "09/03/2027")));
        assert_eq!(choice("NO-CSPR", DECISIONS), Some(("NO-CSPR", "")));
        assert_eq!(choice("CSPRs", DECISIONS), None);
        assert!(Command::Decision.check_args("to follow next week").is_err());
        assert_eq!(Command::Decision.check_args("CSPR 02/03/2027 the Panel disagreed"), Ok(()));
        assert_eq!(Command::Decision.check_args("NO-CSPR criteria not met"), Ok(()));
        assert!(Command::Decision.check_args("CSPR 31/02/2027").is_err(), "no such day");
        assert_eq!(Command::National.check_args("YES 04/03/2027"), Ok(()));
        assert!(Command::National.check_args("maybe").is_err());
        assert_eq!(Command::Published.check_args("https://example.org/report 01/07/2027"), Ok(()));
        assert!(Command::Published.check_args("? Not yet.").is_err());
        assert_eq!(Command::Delay.check_args("30/09/2027 awaiting the criminal trial"), Ok(()));
        assert!(Command::Delay.check_args("is likely because of the trial").is_err());
        assert!(Command::Close.check_args("").is_err());
        assert!(Command::Approve.check_args("").is_err());
    }

    #[test]
    fn configuration_changes_who_may_give_a_command_and_nothing_else() {
        let mut roles = CommandRoles::default();
        roles.set(Command::Delay, vec![Role::Icsc]);
        assert_eq!(roles.roles(Command::Delay), &[Role::Icsc]);
        assert_eq!(roles.roles(Command::Close), &[Role::Icsc]);
        assert_eq!(roles.roles(Command::Submitted), &[Role::Spa, Role::Icsc]);
    }
}
