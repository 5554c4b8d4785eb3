//! Links as mail gateways rewrite them: Microsoft Safe Links, Proofpoint URL Defense
//! (v2 and v3) and Mimecast wrap the address a person pasted. A link given with a
//! command is unwrapped to the original address; a rewritten link that no longer
//! carries it (Mimecast's) is said to be so, never recorded.

use url::Url;

/// A link as read from a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// The address itself (unwrapped if a gateway had wrapped it).
    Address(String),
    /// A gateway's link that does not carry the original address.
    Opaque(&'static str),
}

/// Unwraps a gateway's rewriting of `link`; any other link is returned as it is.
pub fn unwrap_link(link: &str) -> Link {
    let Ok(url) = Url::parse(link) else { return Link::Address(link.to_owned()) };
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let query = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    if host.ends_with("safelinks.protection.outlook.com") {
        if let Some(original) = query("url") {
            return unwrap_link(&original);
        }
    } else if host == "urldefense.proofpoint.com" && url.path().starts_with("/v2/") {
        if let Some(encoded) = query("u") {
            return Link::Address(proofpoint_v2(&encoded));
        }
    } else if host == "urldefense.com" && url.path().starts_with("/v3/__") {
        let after = &link[link.find("/v3/__").map_or(0, |i| i + 6)..];
        if let Some(end) = after.find("__;") {
            return Link::Address(after[..end].to_owned());
        }
    } else if host.contains("mimecast") {
        return Link::Opaque("Mimecast");
    }
    Link::Address(link.to_owned())
}

/// Proofpoint v2: `-XX` is the byte XX in hex and `_` stands for `/`.
fn proofpoint_v2(encoded: &str) -> String {
    let mut out = Vec::new();
    let bytes = encoded.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'_' => out.push(b'/'),
            b'-' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'-'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_links_are_unwrapped_to_the_original() {
        let report = "https://chscp.org.uk/reviews/child-t-report.pdf";
        for wrapped in [
            "https://eur02.safelinks.protection.outlook.com/?url=https%3A%2F%2Fchscp.org.uk%2Freviews%2Fchild-t-report.pdf&data=05%7C02%7C&sdata=abc%3D&reserved=0",
            "https://urldefense.proofpoint.com/v2/url?u=https-3A__chscp.org.uk_reviews_child-2Dt-2Dreport.pdf&d=DwMFaQ&c=abc&r=def",
            "https://urldefense.com/v3/__https://chscp.org.uk/reviews/child-t-report.pdf__;!!ABC123!xyz$",
            report,
        ] {
            assert_eq!(unwrap_link(wrapped), Link::Address(report.to_owned()), "{wrapped}");
        }
        assert_eq!(
            unwrap_link("https://protect-eu.mimecast.com/s/AbCdEfGhIj?domain=chscp.org.uk"),
            Link::Opaque("Mimecast")
        );
        assert_eq!(unwrap_link("not a link"), Link::Address("not a link".to_owned()));
    }
}
