//! HTML to plain text, keeping what extraction needs: line breaks at block elements,
//! and table rows as `first cell: second cell` lines so labelled fields survive.

/// Converts HTML to text. Bounded: linear in the input, no recursion.
pub fn to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut cells: Vec<String> = Vec::new();
    let mut cell = String::new();
    let mut in_cell = false;
    let mut skip_depth: Option<&str> = None;
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        let text = &rest[..lt];
        if skip_depth.is_none() {
            push_text(if in_cell { &mut cell } else { &mut out }, text);
        }
        let after = &rest[lt + 1..];
        let Some(gt) = after.find('>') else {
            rest = "";
            break;
        };
        let tag = after[..gt].trim();
        rest = &after[gt + 1..];
        if tag.starts_with("!--") {
            if let Some(end) = rest.find("-->") {
                rest = &rest[end + 3..];
            }
            continue;
        }
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if let Some(skipped) = skip_depth {
            if closing && name == skipped {
                skip_depth = None;
            }
            continue;
        }
        match (name.as_str(), closing) {
            ("style", false) => skip_depth = Some("style"),
            ("script", false) => skip_depth = Some("script"),
            ("head", false) => skip_depth = Some("head"),
            ("td" | "th", false) => {
                in_cell = true;
                cell.clear();
            }
            ("td" | "th", true) => {
                in_cell = false;
                cells.push(collapse(&cell));
                cell.clear();
            }
            ("tr", true) => {
                flush_row(&mut out, &mut cells);
            }
            ("tr", false) => cells.clear(),
            ("br", _) => {
                if in_cell {
                    cell.push(' ');
                } else {
                    out.push('\n');
                }
            }
            ("p" | "div" | "li" | "h1" | "h2" | "h3" | "h4" | "table" | "blockquote" | "hr", _) => {
                if in_cell {
                    cell.push(' ');
                } else {
                    out.push('\n');
                }
            }
            _ => {}
        }
    }
    if skip_depth.is_none() {
        push_text(&mut out, rest);
    }
    flush_row(&mut out, &mut cells);
    let lines: Vec<String> = out.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect();
    let mut text = String::new();
    let mut blank = false;
    for line in lines {
        if line.is_empty() {
            if !blank && !text.is_empty() {
                text.push('\n');
            }
            blank = true;
        } else {
            text.push_str(&line);
            text.push('\n');
            blank = false;
        }
    }
    text
}

pub(super) fn flush_row(out: &mut String, cells: &mut Vec<String>) {
    let filled: Vec<&String> = cells.iter().filter(|c| !c.is_empty()).collect();
    match filled.as_slice() {
        [] => {}
        [only] => {
            out.push('\n');
            out.push_str(only);
            out.push('\n');
        }
        [label, rest @ ..] => {
            out.push('\n');
            out.push_str(label.trim_end_matches(':'));
            out.push_str(": ");
            let values: Vec<&str> = rest.iter().map(|s| s.as_str()).collect();
            out.push_str(&values.join(" "));
            out.push('\n');
        }
    }
    cells.clear();
}

/// Text between tags: source line breaks are white space, as a browser reads them.
fn push_text(out: &mut String, text: &str) {
    let spaced: String = text.chars().map(|c| if c.is_whitespace() { ' ' } else { c }).collect();
    out.push_str(&decode_entities(&spaced));
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Decodes the entities mail clients use.
pub fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let end = after.find(';').filter(|e| *e <= 10);
        let decoded = end.and_then(|e| {
            let name = &after[..e];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" | "#39" => Some('\''),
                "nbsp" | "#160" => Some(' '),
                _ if name.starts_with("#x") || name.starts_with("#X") => {
                    u32::from_str_radix(&name[2..], 16).ok().and_then(char::from_u32)
                }
                _ if name.starts_with('#') => name[1..].parse::<u32>().ok().and_then(char::from_u32),
                _ => None,
            };
            c.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &after[e + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_rows_become_labelled_lines() {
        let html = "<html><head><style>td{}</style></head><body><p>Dear team,</p><table>\
            <tr><td><b>Date LA became aware</b></td><td>20/11/2026</td></tr>\
            <tr><td>Local authority:</td><td>Hackney &amp; City</td></tr></table></body></html>";
        let text = to_text(html);
        assert!(text.contains("Dear team,\n"));
        assert!(text.contains("Date LA became aware: 20/11/2026\n"));
        assert!(text.contains("Local authority: Hackney & City\n"));
        assert!(!text.contains("td{}"));
    }
}
