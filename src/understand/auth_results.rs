//! Reading `Authentication-Results` (RFC 8601) and `ARC-Authentication-Results`
//! (RFC 8617) header values: the authserv-id and each `method=result` with its
//! properties. Pure; linear in the header's length; comments are dropped.

/// One `method=result` statement and its `ptype.property=value` pairs (lower-case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub method: String,
    pub result: String,
    pub properties: Vec<(String, String)>,
}

impl Statement {
    /// The value of `ptype.property`, if given.
    pub fn property(&self, name: &str) -> Option<&str> {
        self.properties.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// One results header: who wrote it (absent in Microsoft 365's form) and what it says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Results {
    pub authserv_id: Option<String>,
    /// `i=` of an ARC-Authentication-Results header.
    pub instance: Option<u32>,
    pub statements: Vec<Statement>,
}

/// The value with comments (`(…)`, nested, with `\` escapes) replaced by a space and
/// quoted strings kept whole; folding white space becomes one space.
fn without_comments(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut depth = 0usize;
    let mut quoted = false;
    let mut escaped = false;
    for c in value.chars() {
        if escaped {
            escaped = false;
            if depth == 0 {
                out.push(c);
            }
            continue;
        }
        match c {
            '\\' if quoted || depth > 0 => escaped = true,
            '"' if depth == 0 => {
                quoted = !quoted;
                out.push(c);
            }
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    out.push(' ');
                }
            }
            _ if depth > 0 => {}
            c if c.is_whitespace() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn unquote(value: &str) -> String {
    value.trim().trim_matches('"').trim_end_matches('.').to_ascii_lowercase()
}

fn statement(segment: &str) -> Option<Statement> {
    let mut tokens = segment.split_whitespace();
    let (method, result) = tokens.next()?.split_once('=')?;
    let method = method.split('/').next().unwrap_or(method).to_ascii_lowercase();
    let properties = tokens
        .filter_map(|t| t.split_once('='))
        .map(|(k, v)| (k.to_ascii_lowercase(), unquote(v)))
        .filter(|(k, _)| k.contains('.') || k == "reason" || k == "action")
        .collect();
    Some(Statement { method, result: unquote(result), properties })
}

/// Reads one header value. A first segment holding `=` is a statement (Microsoft 365
/// writes no authserv-id), except `i=N` of an ARC-Authentication-Results header.
pub fn parse(value: &str) -> Results {
    let clean = without_comments(value);
    let mut segments = clean.split(';').map(str::trim).filter(|s| !s.is_empty()).peekable();
    let mut results = Results::default();
    if let Some(first) = segments.peek()
        && let Some(n) = first.strip_prefix("i=").or_else(|| first.strip_prefix("I="))
    {
        results.instance = n.trim().parse().ok();
        segments.next();
    }
    if let Some(first) = segments.peek()
        && !first.contains('=')
    {
        results.authserv_id = first.split_whitespace().next().map(str::to_ascii_lowercase);
        segments.next();
    }
    results.statements = segments.filter_map(statement).collect();
    results
}

/// `i=` and `d=` of an ARC-Seal header value.
pub fn seal(value: &str) -> (Option<u32>, Option<String>) {
    let mut instance = None;
    let mut domain = None;
    for tag in value.split(';') {
        let Some((k, v)) = tag.split_once('=') else { continue };
        let v: String = v.chars().filter(|c| !c.is_whitespace()).collect();
        match k.trim().to_ascii_lowercase().as_str() {
            "i" => instance = v.parse().ok(),
            "d" => domain = Some(v.to_ascii_lowercase()),
            _ => {}
        }
    }
    (instance, domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_authserv_id_statements_and_properties_without_comments() {
        let r = parse(
            "mx.google.com;\r\n       dkim=pass header.i=@hackney.gov.uk header.s=s1 header.b=abc;\r\n       \
             spf=pass (google.com: domain of a@hackney.gov.uk; designates 1.2.3.4) smtp.mailfrom=a@hackney.gov.uk;\r\n       \
             dmarc=pass (p=QUARANTINE sp=NONE dis=NONE) header.from=hackney.gov.uk",
        );
        assert_eq!(r.authserv_id.as_deref(), Some("mx.google.com"));
        assert_eq!(r.statements.len(), 3);
        assert_eq!(r.statements[1].method, "spf");
        assert_eq!(r.statements[2].property("header.from"), Some("hackney.gov.uk"));
    }

    #[test]
    fn reads_microsoft_365s_form_without_an_authserv_id() {
        let r = parse(
            "spf=pass (sender IP is 1.2.3.4) smtp.mailfrom=hackney.gov.uk; dkim=pass (signature was verified) \
             header.d=hackney.gov.uk;dmarc=pass action=none header.from=hackney.gov.uk;compauth=pass reason=100",
        );
        assert_eq!(r.authserv_id, None);
        let methods: Vec<_> = r.statements.iter().map(|s| s.method.as_str()).collect();
        assert_eq!(methods, ["spf", "dkim", "dmarc", "compauth"]);
        assert_eq!(r.statements[1].property("header.d"), Some("hackney.gov.uk"));
    }

    #[test]
    fn reads_an_arc_results_instance_and_a_seal() {
        let r = parse("i=2; mx.microsoft.com 1; dmarc=pass header.from=hackney.gov.uk");
        assert_eq!((r.instance, r.authserv_id.as_deref()), (Some(2), Some("mx.microsoft.com")));
        assert_eq!(
            seal("i=2; a=rsa-sha256; d=microsoft.com; s=arcselector; cv=pass; b=xyz"),
            (Some(2), Some("microsoft.com".into()))
        );
    }

    #[test]
    fn an_unclosed_comment_or_quote_swallows_the_rest_and_nothing_breaks() {
        assert!(
            parse("mx.chscp.test; dmarc=pass (p=none header.from=hackney.gov.uk").statements[0].properties.is_empty()
        );
        assert_eq!(parse("mx; dkim=pass header.d=\"a;b").statements[0].method, "dkim");
    }
}
