//! Outlook (`.msg`): the subject, sender and plain body from the compound file's streams.

use std::io::Read;

use super::Limits;

/// An Outlook message's subject, sender and plain body (its compound-file streams).
pub(super) fn text(bytes: &[u8], limits: &Limits) -> Result<String, String> {
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
    use super::super::{DocKind, Inline, extract, kind_of};
    use super::*;

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
        let text = extract(DocKind::Msg, &bytes, &Limits::default(), &Inline).expect("read");
        assert!(
            text.starts_with("From: cfs.safeguarding@hackney.gov.uk\nSubject: Serious incident notification\n"),
            "{text}"
        );
        assert!(text.contains("Panel reference: SIN-2026-01304\nIncident type: Serious harm"), "{text}");
    }
}
