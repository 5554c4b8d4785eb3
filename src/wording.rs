//! Errors from servers and libraries in plain words for an operator: the words a server
//! said without the Rust debug text a library wraps them in (`code: None, info:
//! Some("…")`, `DnsName("…")`), and without a library's own word for the class of
//! failure beside ours ("temporary failure: … permanent error (535)").

/// `text` without debug wrapping and class words.
pub fn plain(text: &str) -> String {
    let mut out = text.to_owned();
    // async-imap: `code: None, info: Some("[AUTHENTICATIONFAILED] Authentication failed.")`
    if let Some(start) = out.find("info: Some(\"") {
        let info = &out[start + "info: Some(\"".len()..];
        let info = info.rfind("\")").map_or(info, |end| &info[..end]).replace("\\\"", "\"");
        let before = out[..start].trim_end_matches([' ', ',']);
        let before = before.strip_suffix("code: None").unwrap_or(before).trim_end_matches([' ', ',', ':']);
        out = if before.is_empty() { info } else { format!("{before}: {info}") };
    }
    // rustls: `DnsName("mail.example.org")`
    while let Some(start) = out.find("DnsName(\"") {
        let rest = &out[start + "DnsName(\"".len()..];
        let Some(end) = rest.find("\")") else { break };
        out = format!("{}{}{}", &out[..start], &rest[..end], &rest[end + 2..]);
    }
    // lettre: `permanent error (535): …` / `transient error (421): …` — the code stays.
    for class in ["permanent error (", "transient error ("] {
        while let Some(start) = out.find(class) {
            let rest = &out[start + class.len()..];
            let Some(end) = rest.find(')') else { break };
            out = format!("{}{}{}", &out[..start], &rest[..end], &rest[end + 1..]);
        }
    }
    out.replace("Some(", "(").replace("None", "none")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_text_and_second_class_words_are_taken_out() {
        assert_eq!(
            plain("no response: code: None, info: Some(\"[AUTHENTICATIONFAILED] Authentication failed.\")"),
            "no response: [AUTHENTICATIONFAILED] Authentication failed."
        );
        assert_eq!(
            plain("invalid peer certificate: certificate not valid for name DnsName(\"mail.example.org\")"),
            "invalid peer certificate: certificate not valid for name mail.example.org"
        );
        assert_eq!(
            plain("permanent error (535): 5.7.8 Error: authentication failed"),
            "535: 5.7.8 Error: authentication failed"
        );
        for text in ["code: Some(Alert)", "x None y"] {
            let out = plain(text);
            assert!(!out.contains("Some(") && !out.contains("None"), "{out}");
        }
    }
}
