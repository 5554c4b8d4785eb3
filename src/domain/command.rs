//! The staff commands given by reply: one table of the words, what follows each, and
//! the roles that may give it by default (configuration can change who may give any
//! command). Understanding, the protocol and the templates all read this table.

use std::collections::BTreeMap;
use std::fmt;

use super::Role;

/// A staff command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Command {
    Submitted,
    Decision,
    MeetingHeld,
    NotifiedOrgs,
    FamilyContacted,
    SosNotified,
    SubgroupDecision,
    PublicationDate,
    CopySent,
    Published,
    NotPublishing,
    Delay,
    Note,
    Close,
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
    spec(Command::Decision, "DECISION", "CSPR|NO-CSPR|NATIONAL [date]", &[Role::Icsc, Role::Spa]),
    spec(Command::MeetingHeld, "MEETING-HELD", "[date]", &[Role::Spa]),
    spec(Command::NotifiedOrgs, "NOTIFIED-ORGS", "[date]", &[Role::Spa]),
    spec(Command::FamilyContacted, "FAMILY-CONTACTED", "[date]", &[Role::Spa]),
    spec(Command::SosNotified, "SOS-NOTIFIED", "[date]", &[Role::Spa]),
    spec(Command::SubgroupDecision, "SUBGROUP-DECISION", "REVIEW|NO-REVIEW [date]", &[Role::Spa]),
    spec(Command::PublicationDate, "PUBLICATION-DATE", "<date>", &[Role::Spa, Role::Icsc]),
    spec(Command::CopySent, "COPY-SENT", "[date]", &[Role::Spa]),
    spec(Command::Published, "PUBLISHED", "<url> [date]", &[Role::Spa, Role::Icsc]),
    spec(Command::NotPublishing, "NOT-PUBLISHING", "<reason>", &[Role::Icsc]),
    spec(Command::Delay, "DELAY", "<new date> <reason>", &[Role::Icsc, Role::Spa]),
    spec(Command::Note, "NOTE", "<text>", &[Role::Spa, Role::Icsc, Role::Slt]),
    spec(Command::Close, "CLOSE", "<reason>", &[Role::Icsc]),
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
    fn configuration_changes_who_may_give_a_command_and_nothing_else() {
        let mut roles = CommandRoles::default();
        roles.set(Command::Delay, vec![Role::Icsc]);
        assert_eq!(roles.roles(Command::Delay), &[Role::Icsc]);
        assert_eq!(roles.roles(Command::Close), &[Role::Icsc]);
        assert_eq!(roles.roles(Command::Submitted), &[Role::Spa, Role::Icsc]);
    }
}
