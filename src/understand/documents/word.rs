//! Word (DOCX): the zip's declared and real sizes bounded, then `word/document.xml` read
//! as paragraphs and `label: value` table rows.

use std::io::Read;

use super::{Limits, tidy};

pub(super) fn text(bytes: &[u8], limits: &Limits) -> Result<String, String> {
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| format!("not a readable Word document ({e})"))?;
    let mut declared = 0u64;
    for i in 0..archive.len().min(10_000) {
        let entry = archive.by_index_raw(i).map_err(|e| format!("damaged ({e})"))?;
        declared = declared.saturating_add(entry.size());
    }
    if declared > limits.max_expanded.saturating_mul(4) {
        return Err(format!("it would expand to {declared} bytes, over the limit"));
    }
    let mut entry =
        archive.by_name("word/document.xml").map_err(|_| "no word/document.xml: not a Word document".to_owned())?;
    let stored = entry.compressed_size().max(1);
    if entry.size() > limits.max_expanded || entry.size() / stored > limits.max_ratio {
        return Err(format!(
            "its text part would expand from {stored} to {} bytes, over the limits (a zip bomb?)",
            entry.size()
        ));
    }
    // The declared size is the sender's word: the reading itself is bounded too.
    let mut xml = Vec::new();
    (&mut entry).take(limits.max_expanded + 1).read_to_end(&mut xml).map_err(|e| format!("damaged ({e})"))?;
    if xml.len() as u64 > limits.max_expanded || xml.len() as u64 / stored > limits.max_ratio {
        return Err("its text part expands beyond the limits (a zip bomb?)".to_owned());
    }
    let text = word_xml_text(&xml)?;
    if text.trim().is_empty() {
        return Err("the Word document holds no text".to_owned());
    }
    Ok(text)
}

/// The text of WordprocessingML: paragraphs as lines, table rows as `label: value`.
fn word_xml_text(xml: &[u8]) -> Result<String, String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut out = String::new();
    let mut in_text = false;
    let mut cell_depth = 0usize;
    let mut cell = String::new();
    let mut cells: Vec<String> = Vec::new();
    loop {
        let event = reader.read_event_into(&mut buf).map_err(|e| format!("damaged text part ({e})"))?;
        match event {
            Event::Start(e) => match e.local_name().as_ref() {
                "t" => in_text = true,
                "tc" => {
                    cell_depth += 1;
                    cell.clear();
                }
                "tr" => cells.clear(),
                _ => {}
            },
            Event::Empty(e) => match e.local_name().as_ref() {
                "tab" | "br" | "cr" if cell_depth > 0 => cell.push(' '),
                "tab" => out.push('\t'),
                "br" | "cr" => out.push('\n'),
                _ => {}
            },
            Event::Text(t) if in_text => {
                let text = t.xml10_content();
                if cell_depth > 0 { cell.push_str(&text) } else { out.push_str(&text) }
            }
            Event::GeneralRef(r) if in_text => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => match r.xml10_content().as_ref() {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "quot" => "\"",
                        "apos" => "'",
                        _ => "",
                    }
                    .to_owned(),
                };
                if cell_depth > 0 { cell.push_str(&resolved) } else { out.push_str(&resolved) }
            }
            Event::End(e) => match e.local_name().as_ref() {
                "t" => in_text = false,
                "p" if cell_depth > 0 => cell.push(' '),
                "p" => out.push('\n'),
                "tc" => {
                    cell_depth = cell_depth.saturating_sub(1);
                    cells.push(cell.split_whitespace().collect::<Vec<_>>().join(" "));
                    cell.clear();
                }
                "tr" => super::super::html::flush_row(&mut out, &mut cells),
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(tidy(&out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_tables_become_label_value_lines() {
        let xml = br#"<w:document xmlns:w="x"><w:body><w:p><w:r><w:t>Dear Panel</w:t></w:r></w:p>
            <w:tbl><w:tr><w:tc><w:p><w:r><w:t>Panel reference</w:t></w:r></w:p></w:tc>
            <w:tc><w:p><w:r><w:t>SIN-2026-00001</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
            <w:p><w:r><w:t xml:space="preserve">A &amp; B</w:t></w:r></w:p></w:body></w:document>"#;
        let text = word_xml_text(xml).expect("text");
        assert!(text.contains("Dear Panel\n"), "{text}");
        assert!(text.contains("Panel reference: SIN-2026-00001\n"), "{text}");
        assert!(text.contains("A & B"), "{text}");
    }
}
