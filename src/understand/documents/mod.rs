//! Text from documents attached to a message: PDF, Word (DOCX) and Outlook (`.msg`), so
//! that a notification sent as a document is read like one pasted into the body. Every
//! document is bounded before it is opened — size, pages, how far its compressed parts
//! expand; a document over a limit, or one that cannot be read, is reported as a problem
//! (and the message goes to triage if nothing else in it can be acted on). TNEF
//! (`winmail.dat`) is recognised and reported. Who runs a reader — this thread, or a
//! worker with a time limit — is the caller's `Reader`.

mod outlook;
mod pdf;
mod word;

use std::time::Duration;

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
    pub fn name(self) -> &'static str {
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

/// Why a reader gave no text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unread {
    /// The document itself: damaged, encrypted, over a limit, no text.
    Unreadable(String),
    /// Every reader was busy (this many at once at most).
    Busy(usize),
    /// Reading took longer than the time limit.
    TooSlow(Duration),
    /// No reader could be started.
    CannotStart(String),
}

/// Runs `read` for one document.
pub trait Reader: Sync {
    fn run(&self, kind: DocKind, bytes: &[u8], limits: &Limits) -> Result<String, Unread>;
}

/// Reads on the caller's thread, with no time limit (tools and tests; the daemon reads
/// on workers with a time limit).
pub struct Inline;

impl Reader for Inline {
    fn run(&self, kind: DocKind, bytes: &[u8], limits: &Limits) -> Result<String, Unread> {
        read(kind, bytes, limits).map_err(Unread::Unreadable)
    }
}

/// The text of one document, or why there is none (a sentence for triage, which
/// reaches emails: it names the kind of document, never its file name, which can name
/// a child).
pub fn extract(kind: DocKind, bytes: &[u8], limits: &Limits, reader: &dyn Reader) -> Result<String, String> {
    let label = format!("An attached {}", kind.name());
    if kind == DocKind::Tnef {
        return Err(format!(
            "{label} cannot be read: ask the sender to forward the notification as plain text, HTML or PDF"
        ));
    }
    if bytes.len() > limits.max_bytes {
        return Err(format!("{label} is {} bytes, over the limit of {}", bytes.len(), limits.max_bytes));
    }
    reader.run(kind, bytes, limits).map_err(|unread| match unread {
        Unread::Unreadable(reason) => format!("{label} cannot be read: {reason}"),
        Unread::Busy(readers) => format!("{label} was not read: {readers} documents were already being read"),
        Unread::TooSlow(time) => format!("{label} took longer than {} s to read", time.as_secs()),
        Unread::CannotStart(error) => format!("{label} cannot be read now: {error}"),
    })
}

/// Reads one document (no time limit: the caller's `Reader` sets one); a panic in a
/// reader is a reason, not a crash.
pub fn read(kind: DocKind, bytes: &[u8], limits: &Limits) -> Result<String, String> {
    std::panic::catch_unwind(move || match kind {
        DocKind::Pdf => pdf::text(bytes, limits),
        DocKind::Docx => word::text(bytes, limits),
        DocKind::Msg => outlook::text(bytes, limits),
        DocKind::Tnef => Err("not read".to_owned()),
    })
    .unwrap_or_else(|_| Err("the reader failed on it".to_owned()))
}

/// Lines trimmed, runs of blank lines collapsed.
pub(super) fn tidy(text: &str) -> String {
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
    fn a_deflate_bomb_is_refused_before_it_is_expanded() {
        use std::io::Write;
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&vec![b'0'; 20 * 1024 * 1024]).expect("compress");
        let bomb = encoder.finish().expect("compress");
        let mut pdf = b"%PDF-1.4\n1 0 obj <</Length 1 /Filter /FlateDecode>> stream\n".to_vec();
        pdf.extend_from_slice(&bomb);
        pdf.extend_from_slice(b"\nendstream endobj\n%%EOF");
        let error = extract(DocKind::Pdf, &pdf, &Limits::default(), &Inline).expect_err("refused");
        assert!(error.contains("expands beyond the limit"), "{error}");
    }

    #[test]
    fn a_corrupt_pdf_is_a_reason_not_a_panic() {
        let error = extract(DocKind::Pdf, b"%PDF-1.4\ngarbage", &Limits::default(), &Inline).expect_err("refused");
        assert!(error.starts_with("An attached PDF cannot be read"), "{error}");
    }

    /// A form printed as one text object, each line placed by `Tm` (as the Panel's
    /// form printer writes it), reads as one line per label, not one run-on line.
    #[test]
    fn a_pdf_line_placed_by_position_is_its_own_line() {
        let content = "BT /F1 10 Tf 1 0 0 1 56 747 Tm (Reference: SIN-2027-00388) Tj \
                       1 0 0 1 56 731 Tm (Date submitted:) Tj 1 0 0 1 140 731 Tm (22 March 2027) Tj \
                       0 -16 Td (Number of children: 1) Tj T* (Looked after? No) Tj ET";
        let text = extract(DocKind::Pdf, &one_page_pdf(content), &Limits::default(), &Inline).expect("read");
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(
            lines,
            ["Reference: SIN-2027-00388", "Date submitted: 22 March 2027", "Number of children: 1", "Looked after? No"]
        );
    }

    fn one_page_pdf(content: &str) -> Vec<u8> {
        use lopdf::{Document, Object, Stream, dictionary};
        let mut doc = Document::with_version("1.5");
        let pages_id = doc.new_object_id();
        let font_id = doc.add_object(dictionary! {
            "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding",
        });
        let content_id = doc.add_object(Stream::new(dictionary! {}, content.as_bytes().to_vec()));
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
            "Resources" => dictionary! { "Font" => dictionary! { "F1" => font_id } },
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        });
        let pages = dictionary! { "Type" => "Pages", "Kids" => vec![Object::from(page_id)], "Count" => 1 };
        doc.objects.insert(pages_id, Object::Dictionary(pages));
        let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        doc.trailer.set("Root", catalog_id);
        let mut bytes = Vec::new();
        doc.save_to(&mut bytes).expect("write the PDF");
        bytes
    }
}
