//! PDF: every compressed part test-inflated within the limits before lopdf reads it.

use std::io::Read;

use super::{Limits, tidy};

/// Inflates a zlib stream, refusing to go past `budget` bytes.
fn inflated_size(data: &[u8], budget: u64) -> Result<u64, ()> {
    let mut decoder = flate2::read::ZlibDecoder::new(data).take(budget + 1);
    let mut sink = [0u8; 16 * 1024];
    let mut total = 0u64;
    loop {
        match decoder.read(&mut sink) {
            Ok(0) => return Ok(total),
            Ok(n) => {
                total += n as u64;
                if total > budget {
                    return Err(());
                }
            }
            // Not zlib, or damaged: the PDF reader decides what it makes of it.
            Err(_) => return Ok(total),
        }
    }
}

/// Every `stream … endstream` in a PDF, test-inflated before the reader sees it, so that
/// no compressed part (object streams included) expands past the limits.
fn check_pdf_streams(bytes: &[u8], limits: &Limits) -> Result<(), String> {
    let mut expanded = 0u64;
    let mut at = 0;
    while let Some(found) = find(&bytes[at..], b"stream") {
        let start = at + found + b"stream".len();
        at = start;
        if bytes[..start].ends_with(b"endstream") {
            continue;
        }
        let data_start = match bytes.get(start..start + 2) {
            Some(b"\r\n") => start + 2,
            Some([b'\n', _]) | Some([b'\r', _]) => start + 1,
            _ => continue,
        };
        let Some(length) = find(&bytes[data_start..], b"endstream") else { break };
        let data = &bytes[data_start..data_start + length];
        let budget =
            (limits.max_expanded - expanded).min((data.len() as u64).saturating_mul(limits.max_ratio).max(64 * 1024));
        let size = inflated_size(data, budget)
            .map_err(|_| format!("a compressed part expands beyond the limit ({} bytes stored)", data.len()))?;
        expanded += size;
        at = data_start + length;
    }
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub(super) fn text(bytes: &[u8], limits: &Limits) -> Result<String, String> {
    check_pdf_streams(bytes, limits)?;
    let document = lopdf::Document::load_mem(bytes).map_err(|e| format!("not a readable PDF ({e})"))?;
    if document.is_encrypted() {
        return Err("the PDF is encrypted".to_owned());
    }
    let pages = document.get_pages().len();
    if pages == 0 {
        return Err("the PDF has no pages".to_owned());
    }
    if pages > limits.max_pages {
        return Err(format!("the PDF has {pages} pages, over the limit of {}", limits.max_pages));
    }
    let page_ids = document.get_pages();
    let mut text = String::new();
    for (page, id) in page_ids {
        page_text(&document, id, limits, &mut text).map_err(|e| format!("no text on page {page} ({e})"))?;
        text.push('\n');
        if text.len() as u64 > limits.max_expanded {
            return Err("the PDF's text is over the size limit".to_owned());
        }
    }
    let text = tidy(&text);
    if text.trim().is_empty() {
        return Err("the PDF holds no text (a scan?)".to_owned());
    }
    Ok(text)
}

/// One page's text in reading order, a line break wherever the text moves to a new line.
///
/// The PDF reader's own extraction breaks lines only between text objects, so a form
/// printed as one text object with each line placed by `Tm` or `Td` (as many form
/// printers write it) came out as one run-on line, and a label's value ran into the next
/// label. Here every move to another line (`Tm` or `Td` to a new height, `TD`, `T*`, `'`,
/// `"`) ends the line; a move along the same line is a space.
fn page_text(
    document: &lopdf::Document,
    page: lopdf::ObjectId,
    limits: &Limits,
    text: &mut String,
) -> Result<(), lopdf::Error> {
    use lopdf::{Object, content::Content};
    let fonts = document.get_page_fonts(page)?;
    let budget = usize::try_from(limits.max_expanded).unwrap_or(usize::MAX);
    let encodings: std::collections::BTreeMap<Vec<u8>, lopdf::Encoding> = fonts
        .into_iter()
        .filter_map(|(name, font)| font.get_font_encoding_with_limit(document, budget).ok().map(|e| (name, e)))
        .collect();
    let content = Content::decode(&document.get_page_content_with_limit(page, budget)?)?;
    let number = |operands: &[Object], at: usize| operands.get(at).and_then(|o| o.as_float().ok());
    let mut encoding = None;
    let mut line_y: Option<f32> = None;
    for operation in &content.operations {
        let operands = &operation.operands;
        match operation.operator.as_str() {
            "Tf" => encoding = operands.first().and_then(|o| o.as_name().ok()).and_then(|n| encodings.get(n)),
            "BT" | "ET" | "T*" => break_line(text),
            "Tm" => {
                let y = number(operands, 5);
                if y.is_some() && y != line_y {
                    break_line(text);
                } else {
                    space(text);
                }
                line_y = y;
            }
            "Td" | "TD" => match number(operands, 1) {
                Some(dy) if dy.abs() > f32::EPSILON => {
                    break_line(text);
                    line_y = line_y.map(|y| y + dy);
                }
                _ => space(text),
            },
            "Tj" | "TJ" | "'" | "\"" => {
                if operation.operator != "Tj" && operation.operator != "TJ" {
                    break_line(text);
                }
                if let Some(encoding) = encoding {
                    let shown =
                        if operation.operator == "\"" { operands.get(2..).unwrap_or(&[]) } else { &operands[..] };
                    shown_text(encoding, shown, text);
                }
            }
            _ => {}
        }
        if text.len() as u64 > limits.max_expanded {
            return Ok(());
        }
    }
    Ok(())
}

fn shown_text(encoding: &lopdf::Encoding, operands: &[lopdf::Object], text: &mut String) {
    use lopdf::Object;
    for operand in operands {
        match operand {
            Object::String(bytes, _) => {
                // An undecodable run is left out rather than failing the page.
                let _ = encoding.write_to_string(bytes, text);
            }
            Object::Array(parts) => shown_text(encoding, parts, text),
            // A wide negative adjustment inside `TJ` is a gap between words.
            Object::Integer(gap) if *gap < -100 => space(text),
            Object::Real(gap) if *gap < -100.0 => space(text),
            _ => {}
        }
    }
}

fn break_line(text: &mut String) {
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
}

fn space(text: &mut String) {
    if !text.is_empty() && !text.ends_with(char::is_whitespace) {
        text.push(' ');
    }
}
