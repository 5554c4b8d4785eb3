//! `CSPR__SECTION__KEY` environment overrides, merged into the parsed file before it
//! is checked. Values that read as a boolean, a number, an array or an inline table
//! take that type; anything else is a string.

use toml::{Table, Value};

/// The prefix of override variables.
pub const PREFIX: &str = "CSPR__";

/// Applies every `CSPR__A__B=value` in `vars` to `table` as `a.b = value`.
pub fn apply(table: &mut Table, vars: &[(String, String)]) {
    for (name, raw) in vars {
        let Some(rest) = name.strip_prefix(PREFIX) else { continue };
        let path: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
        if path.iter().any(String::is_empty) {
            continue;
        }
        set(table, &path, typed(raw));
    }
}

fn set(table: &mut Table, path: &[String], value: Value) {
    let Some((last, parents)) = path.split_last() else { return };
    let mut current = table;
    for key in parents {
        let entry = current.entry(key.clone()).or_insert_with(|| Value::Table(Table::new()));
        if !entry.is_table() {
            *entry = Value::Table(Table::new());
        }
        let Value::Table(inner) = entry else { return };
        current = inner;
    }
    current.insert(last.clone(), value);
}

fn typed(raw: &str) -> Value {
    let trimmed = raw.trim();
    match trimmed {
        "true" => return Value::Boolean(true),
        "false" => return Value::Boolean(false),
        _ => {}
    }
    if let Ok(n) = trimmed.parse::<i64>() {
        return Value::Integer(n);
    }
    if (trimmed.starts_with('[') || trimmed.starts_with('{'))
        && let Ok(mut doc) = format!("v = {trimmed}").parse::<Table>()
        && let Some(value) = doc.remove("v")
    {
        return value;
    }
    Value::String(raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_nest_and_take_types() {
        let mut table: Table = "[partnership]\nname = \"X\"\n".parse().unwrap();
        let vars = [
            ("CSPR__PARTNERSHIP__MAILBOX".to_owned(), "team@hackney.gov.uk".to_owned()),
            ("CSPR__CLOCKS__C3__WORKING_DAYS".to_owned(), "20".to_owned()),
            ("CSPR__CALENDAR__EXTRA_NON_WORKING_DAYS".to_owned(), "[\"2026-12-24\"]".to_owned()),
            ("CSPR_CONFIG".to_owned(), "ignored".to_owned()),
        ];
        apply(&mut table, &vars);
        assert_eq!(table["partnership"]["name"].as_str(), Some("X"));
        assert_eq!(table["partnership"]["mailbox"].as_str(), Some("team@hackney.gov.uk"));
        assert_eq!(table["clocks"]["c3"]["working_days"].as_integer(), Some(20));
        assert_eq!(table["calendar"]["extra_non_working_days"][0].as_str(), Some("2026-12-24"));
        assert!(!table.contains_key("cspr_config"));
    }
}
