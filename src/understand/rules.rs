//! What understanding a message consults: who is who, how mail is judged, and the
//! words and patterns that mark fields and references — a narrow view the caller
//! builds from configuration.

use regex::Regex;

use super::Labels;
use crate::domain::Directory;
use crate::domain::policy::Intake;

#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    pub directory: &'a Directory,
    pub intake: &'a Intake,
    /// Finds our case references (`PREFIX-YYYY-N…`).
    pub case_pattern: &'a Regex,
    pub labels: &'a Labels,
    pub panel_patterns: &'a [Regex],
    pub la_patterns: &'a [Regex],
}
