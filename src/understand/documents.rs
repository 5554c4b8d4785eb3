//! Text from documents attached to a message: PDF, Word (DOCX) and Outlook (`.msg`), so
//! that a notification sent as a document is read like one pasted into the body. Every
//! document is bounded before it is opened — size, pages, how far its compressed parts
//! expand — and read on a worker thread with a time limit; a document over a limit, or
//! one that cannot be read, is reported as a problem (and the message goes to triage if
//! nothing else in it can be acted on). TNEF (`winmail.dat`) is recognised and reported.

use std::io::Read;
use std::sync::{Condvar, Mutex, mpsc};
use std::time::Duration;

/// Reader threads running at once at most, across all messages: a reader that overran
/// is left to finish on its own (its input is bounded), but holds its place until then.
pub const MAX_READERS: usize = 4;

/// Places for reader threads.
struct Readers {
    running: Mutex<usize>,
    freed: Condvar,
}

static READERS: Readers = Readers { running: Mutex::new(0), freed: Condvar::new() };

/// A reader thread's place, given back when it is dropped (when the thread ends).
struct Place;

impl Place {
    /// Waits up to `wait` for a place.
    fn take(wait: Duration) -> Option<Place> {
        let running = READERS.running.lock().unwrap_or_else(|e| e.into_inner());
        let (mut running, _) =
            READERS.freed.wait_timeout_while(running, wait, |n| *n >= MAX_READERS).unwrap_or_else(|e| e.into_inner());
        if *running >= MAX_READERS {
            return None;
        }
        *running += 1;
        Some(Place)
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut running = READERS.running.lock().unwrap_or_else(|e| e.into_inner());
        *running = running.saturating_sub(1);
        READERS.freed.notify_one();
    }
}

/// Reader threads running now.
pub fn readers_running() -> usize {
    *READERS.running.lock().unwrap_or_else(|e| e.into_inner())
}

/// Bounds on one document.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_pages: usize,
    /// The most its compressed parts may expand to, together.
    pub max_expanded: u64,
    /// The most one compressed part may expand relative to its stored size.
    pub max_ratio: u64,
    pub time: Duration,
    /// Documents read per message.
    pub max_documents: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 10 * 1024 * 1024,
            max_pages: 100,
            max_expanded: 32 * 1024 * 1024,
            max_ratio: 200,
            time: Duration::from_secs(5),
            max_documents: 5,
        }
    }
}

/// The kinds of document read (or recognised).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    Pdf,
    Docx,
    Msg,
    Tnef,
}

impl DocKind {
    fn name(self) -> &'static str {
        match self {
            DocKind::Pdf => "PDF",
            DocKind::Docx => "Word document",
            DocKind::Msg => "Outlook message (.msg)",
            DocKind::Tnef => "Outlook rich-text file (winmail.dat)",
        }
    }
}

/// What an attachment is, by its first bytes (and its name for the ambiguous ones).
pub fn kind_of(name: Option<&str>, bytes: &[u8]) -> Option<DocKind> {
    let name = name.unwrap_or("").to_ascii_lowercase();
    if bytes.starts_with(b"%PDF-")
        || (name.ends_with(".pdf") && bytes.len() < 1024 && bytes.windows(5).any(|w| w == b"%PDF-"))
    {
        Some(DocKind::Pdf)
    } else if bytes.starts_with(b"PK\x03\x04") && (name.ends_with(".docx") || name.is_empty() || !name.contains('.')) {
        Some(DocKind::Docx)
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) && name.ends_with(".msg") {
        Some(DocKind::Msg)
    } else if bytes.starts_with(&[0x78, 0x9F, 0x3E, 0x22]) {
        Some(DocKind::Tnef)
    } else if name.ends_with(".pdf") {
        Some(DocKind::Pdf)
    } else if name.ends_with(".docx") {
        Some(DocKind::Docx)
    } else {
        None
    }
}

/// The text of one document, or why there is none (a sentence for triage, which
/// reaches emails: it names the kind of document, never its file name, which can name
/// a child).
pub fn extract(kind: DocKind, bytes: &[u8], limits: &Limits) -> Result<String, String> {
    let label = format!("An attached {}", kind.name());
    if kind == DocKind::Tnef {
        return Err(format!(
            "{label} cannot be read: ask the sender to forward the notification as plain text, HTML or PDF"
        ));
    }
    if bytes.len() > limits.max_bytes {
        return Err(format!("{label} is {} bytes, over the limit of {}", bytes.len(), limits.max_bytes));
    }
    let Some(place) = Place::take(limits.time) else {
        return Err(format!("{label} was not read: {MAX_READERS} documents were already being read"));
    };
    // The worker owns its copy: if it overruns the time limit it is left to finish on
    // its own (its input is bounded) and its answer is ignored.
    let owned = bytes.to_vec();
    let limits_copy = *limits;
    let (sender, receiver) = mpsc::sync_channel(1);
    let spawned =
        std::thread::Builder::new().name("cspr-document".into()).stack_size(8 * 1024 * 1024).spawn(move || {
            let _place = place;
            let result = std::panic::catch_unwind(move || match kind {
                DocKind::Pdf => pdf_text(&owned, &limits_copy),
                DocKind::Docx => docx_text(&owned, &limits_copy),
                DocKind::Msg => msg_text(&owned, &limits_copy),
                DocKind::Tnef => Err("not read".to_owned()),
            });
            let _ = sender.send(result.unwrap_or_else(|_| Err("the reader failed on it".to_owned())));
        });
    if let Err(e) = spawned {
        return Err(format!("{label} cannot be read now: {e}"));
    }
    match receiver.recv_timeout(limits.time) {
        Ok(Ok(text)) => Ok(text),
        Ok(Err(reason)) => Err(format!("{label} cannot be read: {reason}")),
        Err(_) => Err(format!("{label} took longer than {} s to read", limits.time.as_secs())),
    }
}

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

fn pdf_text(bytes: &[u8], limits: &Limits) -> Result<String, String> {
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

/// Lines trimmed, runs of blank lines collapsed.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn docx_text(bytes: &[u8], limits: &Limits) -> Result<String, String> {
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
                "tr" => super::html::flush_row(&mut out, &mut cells),
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(tidy(&out))
}

/// An Outlook message's subject, sender and plain body (its compound-file streams).
fn msg_text(bytes: &[u8], limits: &Limits) -> Result<String, String> {
    let mut file = cfb::CompoundFile::open(std::io::Cursor::new(bytes)).map_err(|e| format!("damaged ({e})"))?;
    let mut read = |name: &str| -> Option<Vec<u8>> {
        let mut stream = file.open_stream(name).ok()?;
        let mut data = Vec::new();
        (&mut stream).take(limits.max_expanded).read_to_end(&mut data).ok()?;
        Some(data)
    };
    let unicode = |data: Vec<u8>| {
        let units: Vec<u16> = data.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        String::from_utf16_lossy(&units).trim_end_matches('\0').to_owned()
    };
    let ansi = |data: Vec<u8>| String::from_utf8_lossy(&data).trim_end_matches('\0').to_owned();
    let property = |read: &mut dyn FnMut(&str) -> Option<Vec<u8>>, id: &str| {
        read(&format!("/__substg1.0_{id}001F"))
            .map(unicode)
            .or_else(|| read(&format!("/__substg1.0_{id}001E")).map(ansi))
    };
    let subject = property(&mut read, "0037");
    let sender = property(&mut read, "0C1F").or_else(|| property(&mut read, "0C1A"));
    let body = property(&mut read, "1000");
    let Some(body) = body.filter(|b| !b.trim().is_empty()) else {
        return Err("the Outlook message has no plain-text body".to_owned());
    };
    let mut out = String::new();
    if let Some(sender) = sender {
        out.push_str(&format!("From: {sender}\n"));
    }
    if let Some(subject) = subject {
        out.push_str(&format!("Subject: {subject}\n"));
    }
    out.push('\n');
    out.push_str(&body.replace("\r\n", "\n"));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_documents_by_their_first_bytes() {
        assert_eq!(kind_of(Some("n.pdf"), b"%PDF-1.4\n"), Some(DocKind::Pdf));
        assert_eq!(kind_of(Some("n.docx"), b"PK\x03\x04rest"), Some(DocKind::Docx));
        assert_eq!(kind_of(Some("winmail.dat"), &[0x78, 0x9F, 0x3E, 0x22, 0]), Some(DocKind::Tnef));
        assert_eq!(kind_of(Some("photo.jpg"), b"\xFF\xD8\xFF"), None);
        assert_eq!(kind_of(Some("archive.zip"), b"PK\x03\x04"), None);
    }

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

    #[test]
    fn a_deflate_bomb_is_refused_before_it_is_expanded() {
        use std::io::Write;
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&vec![b'0'; 20 * 1024 * 1024]).expect("compress");
        let bomb = encoder.finish().expect("compress");
        let mut pdf = b"%PDF-1.4\n1 0 obj <</Length 1 /Filter /FlateDecode>> stream\n".to_vec();
        pdf.extend_from_slice(&bomb);
        pdf.extend_from_slice(b"\nendstream endobj\n%%EOF");
        let error = extract(DocKind::Pdf, &pdf, &Limits::default()).expect_err("refused");
        assert!(error.contains("expands beyond the limit"), "{error}");
    }

    #[test]
    fn an_outlook_message_gives_its_subject_sender_and_body() {
        let mut file = cfb::CompoundFile::create(std::io::Cursor::new(Vec::new())).expect("cfb");
        let utf16 = |s: &str| s.encode_utf16().flat_map(u16::to_le_bytes).collect::<Vec<u8>>();
        for (name, value) in [
            ("/__substg1.0_0037001F", "Serious incident notification"),
            ("/__substg1.0_0C1F001F", "cfs.safeguarding@hackney.gov.uk"),
            ("/__substg1.0_1000001F", "Panel reference: SIN-2026-01304\r\nIncident type: Serious harm\r\n"),
        ] {
            use std::io::Write;
            file.create_stream(name).expect("stream").write_all(&utf16(value)).expect("written");
        }
        let bytes = file.into_inner().into_inner();
        assert_eq!(kind_of(Some("Notification.msg"), &bytes), Some(DocKind::Msg));
        let text = extract(DocKind::Msg, &bytes, &Limits::default()).expect("read");
        assert!(
            text.starts_with("From: cfs.safeguarding@hackney.gov.uk\nSubject: Serious incident notification\n"),
            "{text}"
        );
        assert!(text.contains("Panel reference: SIN-2026-01304\nIncident type: Serious harm"), "{text}");
    }

    #[test]
    fn a_document_over_its_time_is_abandoned_with_that_reason() {
        let limits = Limits { time: Duration::ZERO, ..Limits::default() };
        let xml = format!(
            "<w:document xmlns:w=\"w\"><w:body>{}</w:body></w:document>",
            "<w:p><w:r><w:t>x</w:t></w:r></w:p>".repeat(20_000)
        );
        let mut buffer = std::io::Cursor::new(Vec::new());
        {
            use std::io::Write;
            let mut zip = zip::ZipWriter::new(&mut buffer);
            zip.start_file("word/document.xml", zip::write::SimpleFileOptions::default()).expect("zip");
            zip.write_all(xml.as_bytes()).expect("zip");
            zip.finish().expect("zip");
        }
        let error = extract(DocKind::Docx, buffer.get_ref(), &limits).expect_err("abandoned");
        assert_eq!(error, "An attached Word document took longer than 0 s to read");
    }

    #[test]
    fn a_corrupt_pdf_is_a_reason_not_a_panic() {
        let error = extract(DocKind::Pdf, b"%PDF-1.4\ngarbage", &Limits::default()).expect_err("refused");
        assert!(error.starts_with("An attached PDF cannot be read"), "{error}");
    }

    #[test]
    fn reader_threads_are_capped_and_their_places_given_back() {
        let wait = Duration::from_secs(10);
        let places: Vec<Place> = (0..MAX_READERS).map(|_| Place::take(wait).expect("a place")).collect();
        assert!(Place::take(Duration::ZERO).is_none(), "no fifth reader");
        assert_eq!(readers_running(), MAX_READERS);
        drop(places);
        assert!(Place::take(Duration::ZERO).is_some(), "places are given back");
    }
}
