//! The staff commands given by reply: one table of the words, what follows each, and
//! the roles that may give it by default (configuration can change who may give any
//! command). Understanding, the protocol and the templates all read this table.

use std::collections::BTreeMap;
use std::fmt;

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
}

const fn spec(command: Command, word: &'static str, args: &'static str, roles: &'static [Role]) -> CommandSpec {
    CommandSpec { command, word, args, roles }
}

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
    spec(Command::Note, "NOTE", "<text>", &[Role::Spa, Role::Icsc, Role::Slt]),
    spec(Command::Close, "CLOSE", "<reason>", &[Role::Icsc]),
    spec(Command::Reopen, "REOPEN", "<reason>", &[Role::Icsc]),
    spec(Command::Help, "HELP", "", &[Role::Spa, Role::Icsc, Role::Slt]),
    spec(Command::Status, "STATUS", "", &[Role::Spa, Role::Icsc, Role::Slt]),
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
            Command::Help | Command::Status if rest.is_empty() => Ok(()),
            Command::Help | Command::Status => Err(format!("{} takes nothing after it", self.word())),
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

/// The choice a command's arguments start with, as written in any case and with a space
/// or a hyphen between its words ("NO-CSPR", "no CSPR"): the choice as the table writes
/// it, and what follows.
pub fn choice<'a>(rest: &'a str, options: &[&'static str]) -> Option<(&'static str, &'a str)> {
    let rest = rest.trim_start();
    options.iter().find_map(|option| {
        let mut at = 0;
        for (i, word) in option.split('-').enumerate() {
            if i > 0 {
                let gap = rest[at..].len() - rest[at..].trim_start_matches([' ', '-']).len();
                if gap == 0 {
                    return None;
                }
                at += gap;
            }
            let candidate = rest.get(at..at + word.len())?;
            if !candidate.eq_ignore_ascii_case(word) {
                return None;
            }
            at += word.len();
        }
        let after = &rest[at..];
        after.is_empty().then_some(()).or_else(|| after.starts_with(char::is_whitespace).then_some(()))?;
        Some((*option, after.trim()))
    })
}

/// The choices of DECISION, NATIONAL and SUBGROUP-DECISION. `DECISION NATIONAL` is still
/// read, as `NATIONAL YES` (3.4's question is asked apart from the decision).
pub const DECISIONS: &[&str] = &["NO-CSPR", "CSPR", "NATIONAL"];
pub const NATIONAL_ANSWERS: &[&str] = &["YES", "NO"];
/// The notices NOTICE-SENT records (8.1, 9.1).
pub const NOTICES: &[&str] = &["NON-PUBLICATION", "DELAY"];
pub const SUBGROUP_DECISIONS: &[&str] = &["NO-REVIEW", "REVIEW"];

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
