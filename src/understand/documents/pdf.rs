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
    let pages: Vec<u32> = document.get_pages().keys().copied().collect();
    if pages.is_empty() {
        return Err("the PDF has no pages".to_owned());
    }
    if pages.len() > limits.max_pages {
        return Err(format!("the PDF has {} pages, over the limit of {}", pages.len(), limits.max_pages));
    }
    let mut text = String::new();
    for page in pages {
        let page_text = document.extract_text(&[page]).map_err(|e| format!("no text on page {page} ({e})"))?;
        text.push_str(&page_text);
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
