//! The house as ARCHITECTURE.md draws it, checked on the source: the pure core reads no
//! configuration, the adapters do not reach into each other, no module imports one
//! that imports it back, and no source file is over 400 lines.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("a source folder") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).expect("a source file")
}

/// `src/a/b.rs` and `src/a/b/mod.rs` are module `a::b`.
fn module_of(path: &Path) -> Vec<String> {
    let relative = path.strip_prefix(src()).expect("under src");
    let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if let Some(last) = parts.last_mut() {
        *last = last.trim_end_matches(".rs").to_owned();
    }
    if parts.last().is_some_and(|l| l == "mod" || l == "lib" || l == "main") {
        parts.pop();
    }
    parts
}

/// Every module path this file names (`crate::a::b`, `super::c`, `use super::{d, e}`),
/// outside its tests.
fn references(path: &Path) -> BTreeSet<Vec<String>> {
    let text = read(path);
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    let me = module_of(path);
    let parent: Vec<String> = me[..me.len().saturating_sub(1)].to_vec();
    let mut out = BTreeSet::new();
    let word = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
    for (prefix, base) in [("crate::", Vec::new()), ("super::", parent.clone())] {
        for (at, _) in code.match_indices(prefix) {
            if code[..at].ends_with(|c: char| word(c) || c == ':') {
                continue;
            }
            let rest = &code[at + prefix.len()..];
            let mut path = base.clone();
            if let Some(group) = rest.strip_prefix('{') {
                for item in group.split('}').next().unwrap_or_default().split(',') {
                    let name: String = item.trim().chars().take_while(|c| word(*c)).collect();
                    if !name.is_empty() && name != "self" {
                        let mut one = base.clone();
                        one.push(name);
                        out.insert(one);
                    }
                }
                continue;
            }
            let named: String = rest.chars().take_while(|c| word(*c) || *c == ':').collect();
            for segment in named.split("::").take_while(|s| !s.is_empty()) {
                if segment == "super" {
                    path.pop();
                } else {
                    path.push(segment.to_owned());
                }
            }
            out.insert(path);
        }
    }
    out
}

#[test]
fn the_core_reads_no_configuration() {
    for dir in ["domain", "understand", "protocol"] {
        for file in rust_files(&src().join(dir)) {
            let text = read(&file);
            assert!(!text.contains("crate::config"), "{} imports the configuration", file.display());
            let names_config = text
                .match_indices("Config")
                .any(|(at, _)| !text[at + 6..].starts_with(|c: char| c.is_alphanumeric() || c == '_'));
            assert!(!names_config, "{} names the Config type", file.display());
        }
    }
}

#[test]
fn adapters_do_not_reach_into_each_other() {
    let forbidden =
        [("sources", "use crate::store"), ("outbound", "use crate::sources"), ("oauth", "use crate::sources")];
    for (dir, import) in forbidden {
        for file in rust_files(&src().join(dir)) {
            assert!(!read(&file).contains(import), "{} has `{import}`", file.display());
        }
    }
    assert!(!read(&src().join("jobs/deliver.rs")).contains("use crate::sources"));
}

#[test]
fn no_source_file_is_over_400_lines() {
    for file in rust_files(&src()) {
        let lines = read(&file).lines().count();
        assert!(lines <= 400, "{} has {lines} lines", file.display());
    }
}

#[test]
fn no_two_modules_import_each_other() {
    // An edge between the two sibling modules under which the importer and the
    // imported part ways (a child naming its parent, or the reverse, is no edge).
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for file in rust_files(&src()) {
        let me = module_of(&file);
        for target in references(&file) {
            let common = me.iter().zip(&target).take_while(|(a, b)| a == b).count();
            if common < me.len() && common < target.len() {
                edges.entry(me[..=common].to_vec()).or_default().insert(target[..=common].to_vec());
            }
        }
    }
    // Any circle, however long: a module that reaches itself.
    for start in edges.keys() {
        let mut seen = BTreeSet::new();
        let mut pending: Vec<&Vec<String>> = edges[start].iter().collect();
        while let Some(next) = pending.pop() {
            assert!(next != start, "{} imports a module that imports it back", start.join("::"));
            if seen.insert(next.clone()) {
                pending.extend(edges.get(next).into_iter().flatten());
            }
        }
    }
    assert!(edges.len() > 20, "the modules were read ({} with imports)", edges.len());
}
