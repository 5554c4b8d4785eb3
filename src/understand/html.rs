//! HTML to plain text, keeping what extraction needs: line breaks at block elements,
//! and table rows as `first cell: second cell` lines so labelled fields survive.
//! Tokenizing (tags, comments, character references) is html5ever's, fed in chunks so
//! that the message's budget is checked between them; everything here is linear.

use std::cell::RefCell;

use html5ever::TokenizerResult;
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts};

use super::budget::{Budget, Overrun};

/// Input handed to the tokenizer at a time; the budget is checked between chunks.
const CHUNK: usize = 64 * 1024;

/// What the text collected so far is inside of.
#[derive(Default)]
struct Text {
    out: String,
    cells: Vec<String>,
    cell: String,
    in_cell: bool,
    /// Inside `<head>`, `<style>` or `<script>`: nothing shown.
    hidden: Option<&'static str>,
}

impl Text {
    fn target(&mut self) -> &mut String {
        if self.in_cell { &mut self.cell } else { &mut self.out }
    }

    fn tag(&mut self, name: &str, kind: TagKind) -> TokenSinkResult<()> {
        let start = kind == TagKind::StartTag;
        if let Some(hidden) = self.hidden {
            // `<body>` ends an unclosed `<head>`, as a browser reads it.
            if (!start && name == hidden) || (start && hidden == "head" && name == "body") {
                self.hidden = None;
            }
            return TokenSinkResult::Continue;
        }
        match (name, start) {
            ("style", true) => {
                self.hidden = Some("style");
                return TokenSinkResult::RawData(RawKind::Rawtext);
            }
            ("script", true) => {
                self.hidden = Some("script");
                return TokenSinkResult::RawData(RawKind::ScriptData);
            }
            ("title" | "textarea", true) => return TokenSinkResult::RawData(RawKind::Rcdata),
            ("head", true) => self.hidden = Some("head"),
            ("td" | "th", true) => {
                self.in_cell = true;
                self.cell.clear();
            }
            ("td" | "th", false) => {
                self.in_cell = false;
                let cell = collapse(&self.cell);
                self.cells.push(cell);
                self.cell.clear();
            }
            ("tr", false) => flush_row(&mut self.out, &mut self.cells),
            ("tr", true) => self.cells.clear(),
            (
                "br" | "p" | "div" | "li" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "table" | "blockquote" | "hr",
                _,
            ) => {
                let in_cell = self.in_cell;
                self.target().push(if in_cell { ' ' } else { '\n' });
            }
            _ => {}
        }
        TokenSinkResult::Continue
    }

    /// Text between tags: source line breaks are white space, as a browser reads them.
    fn characters(&mut self, text: &str) {
        if self.hidden.is_some() {
            return;
        }
        let target = self.target();
        target.extend(text.chars().map(|c| if c.is_whitespace() { ' ' } else { c }));
    }
}

struct Sink(RefCell<Text>);

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut text = self.0.borrow_mut();
        match token {
            Token::TagToken(tag) => text.tag(&tag.name, tag.kind),
            Token::CharacterTokens(chars) => {
                text.characters(&chars);
                TokenSinkResult::Continue
            }
            _ => TokenSinkResult::Continue,
        }
    }
}

/// Converts HTML to text, checking `budget` between chunks of input.
pub fn to_text(html: &str, budget: &Budget) -> Result<String, Overrun> {
    let tokenizer = Tokenizer::new(Sink(RefCell::new(Text::default())), TokenizerOpts::default());
    let queue = BufferQueue::default();
    let mut rest = html;
    while !rest.is_empty() {
        budget.check()?;
        let mut end = rest.len().min(CHUNK);
        while !rest.is_char_boundary(end) {
            end += 1;
        }
        queue.push_back(StrTendril::from_slice(&rest[..end]));
        rest = &rest[end..];
        // Our sink never blocks the tokenizer: it runs until the chunk is used up.
        while !matches!(tokenizer.feed(&queue), TokenizerResult::Done) {}
    }
    tokenizer.end();
    budget.check()?;
    let mut text = tokenizer.sink.0.take();
    let mut cells = std::mem::take(&mut text.cells);
    flush_row(&mut text.out, &mut cells);
    let mut out = String::with_capacity(text.out.len());
    let mut blank = false;
    for line in text.out.lines() {
        let mut words = line.split_whitespace().peekable();
        if words.peek().is_none() {
            if !blank && !out.is_empty() {
                out.push('\n');
            }
            blank = true;
            continue;
        }
        for (i, word) in words.enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(word);
        }
        out.push('\n');
        blank = false;
    }
    Ok(out)
}

pub(super) fn flush_row(out: &mut String, cells: &mut Vec<String>) {
    let mut filled = cells.iter().filter(|c| !c.is_empty());
    if let Some(label) = filled.next() {
        out.push('\n');
        let mut values = filled.peekable();
        if values.peek().is_none() {
            out.push_str(label);
        } else {
            out.push_str(label.trim_end_matches(':'));
            out.push_str(": ");
            for (i, value) in values.enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(value);
            }
        }
        out.push('\n');
    }
    cells.clear();
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(html: &str) -> String {
        to_text(html, &Budget::unlimited()).expect("unlimited")
    }

    #[test]
    fn table_rows_become_labelled_lines() {
        let html = "<html><head><style>td{}</style></head><body><p>Dear team,</p><table>\
            <tr><td><b>Date LA became aware</b></td><td>20/11/2026</td></tr>\
            <tr><td>Local authority:</td><td>Hackney &amp; City</td></tr></table></body></html>";
        let text = text(html);
        assert!(text.contains("Dear team,\n"));
        assert!(text.contains("Date LA became aware: 20/11/2026\n"));
        assert!(text.contains("Local authority: Hackney & City\n"));
        assert!(!text.contains("td{}"));
    }

    #[test]
    fn reads_character_references_as_a_browser_does() {
        assert_eq!(
            text("<p>Tom &amp Jerry &lt;3 &#163;5 &eacute;t&eacute; &nbsp;x &bogus; a&b</p>"),
            "Tom & Jerry <3 £5 été x &bogus; a&b\n"
        );
    }

    #[test]
    fn hides_scripts_styles_and_comments_even_unclosed() {
        assert_eq!(
            text("<p>seen</p><script>if (a < b) { x = '</p>'; }</script><!-- hidden --><p>too</p>"),
            "seen\n\ntoo\n"
        );
        assert_eq!(text("<p>seen</p><!-- never closed <p>hidden</p>"), "seen\n");
        assert_eq!(
            text("<head><title>t</title><body><p>body without a closed head</p>"),
            "body without a closed head\n"
        );
    }

    #[test]
    fn a_chunk_boundary_inside_a_reference_or_a_character_changes_nothing() {
        let mut html = "x".repeat(CHUNK - 3);
        html.push_str("&amp;é&eacute;<b>bold</b>");
        let read = text(&html);
        assert!(read.ends_with("&éébold\n"), "{}", &read[read.len() - 20..]);
    }

    #[test]
    fn a_spent_budget_stops_between_chunks() {
        let spent = || true;
        assert_eq!(to_text("<p>x</p>", &Budget::new(&spent)), Err(Overrun));
    }
}
