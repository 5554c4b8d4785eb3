//! Everything `cspr` prints passes through `Printable`: control characters (C0 but line
//! feed, tab and the carriage return of a CRLF line end, DEL, C1, and the bidirectional
//! overrides) are dropped, so that a sender's subject or a triage reason cannot move the
//! cursor, rewrite the terminal's title, or reorder what an operator reads. (CRLF stays:
//! calendar feeds and CSV need it.)

use std::io::{self, Write};

/// Whether `c` is kept on a terminal.
fn printable(c: char) -> bool {
    match c {
        '\n' | '\t' => true,
        c if c.is_control() => false,
        // Bidirectional embeddings, overrides and isolates.
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => false,
        _ => true,
    }
}

/// `text` with its control characters dropped (a carriage return is kept only before a
/// line feed).
pub fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if printable(c) || (c == '\r' && chars.peek() == Some(&'\n')) {
            out.push(c);
        }
    }
    out
}

/// A writer that drops control characters from what passes through it.
pub struct Printable<W: Write> {
    inner: W,
    /// The start of a character split between two writes.
    carry: Vec<u8>,
}

impl<W: Write> Printable<W> {
    pub fn new(inner: W) -> Self {
        Self { inner, carry: Vec::new() }
    }
}

impl<W: Write> Write for Printable<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut data = std::mem::take(&mut self.carry);
        data.extend_from_slice(buf);
        // A carriage return at the end waits for what follows it.
        let held_cr = data.last() == Some(&b'\r');
        if held_cr {
            data.pop();
        }
        let mut rest = data.as_slice();
        let mut out = Vec::with_capacity(rest.len());
        while !rest.is_empty() {
            match std::str::from_utf8(rest) {
                Ok(text) => {
                    out.extend(clean(text).bytes());
                    rest = &[];
                }
                Err(error) => {
                    let (valid, after) = rest.split_at(error.valid_up_to());
                    out.extend(clean(std::str::from_utf8(valid).unwrap_or_default()).bytes());
                    match error.error_len() {
                        // Not UTF-8: dropped (a terminal would read it as control bytes).
                        Some(bad) => rest = &after[bad..],
                        None => {
                            self.carry = after.to_vec();
                            rest = &[];
                        }
                    }
                }
            }
        }
        if held_cr {
            self.carry.push(b'\r');
        }
        self.inner.write_all(&out)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.carry.clear();
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_escapes_bells_carriage_returns_c1_and_overrides() {
        let text = "Subject: \u{1b}]0;owned\u{7}\u{1b}[2Jhi\rthere\u{9b}31m\u{202e}gpj.exe\u{7f}\n\tok ✓\n";
        let mut out = Printable::new(Vec::new());
        out.write_all(text.as_bytes()).unwrap();
        assert_eq!(String::from_utf8(out.inner).unwrap(), "Subject: ]0;owned[2Jhithere31mgpj.exe\n\tok ✓\n");
    }

    #[test]
    fn a_character_split_between_writes_is_kept() {
        let mut out = Printable::new(Vec::new());
        let bytes = "é\u{1b}".as_bytes();
        out.write_all(&bytes[..1]).unwrap();
        out.write_all(&bytes[1..]).unwrap();
        assert_eq!(String::from_utf8(out.inner).unwrap(), "é");
    }

    #[test]
    fn a_crlf_line_end_is_kept_even_across_writes() {
        let mut out = Printable::new(Vec::new());
        out.write_all(b"BEGIN:VCALENDAR\r").unwrap();
        out.write_all(b"\nEND:VCALENDAR\r\n").unwrap();
        out.write_all(b"a\rb").unwrap();
        assert_eq!(String::from_utf8(out.inner).unwrap(), "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\nab");
    }
}
