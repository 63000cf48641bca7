//! The check that imports point one way: no top-level module imports
//! another that imports it back, directly or through others (tests
//! included). The application is assembled in `startup`, the one module
//! that may reach every feature, so the check lives here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Every `.rs` file under `dir`, with its path relative to `src/`.
fn sources(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            out.push((rel, std::fs::read_to_string(&path).unwrap()));
        }
    }
}

/// The top-level modules a source names: `crate::x` anywhere, and the
/// first names inside `use crate::{x, y::z}`.
fn named(text: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                let first = part.trim().split("::").next().unwrap_or("");
                found.insert(first.trim().to_owned());
            }
        } else {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            found.insert(rest[..end].to_owned());
        }
    }
    found.retain(|m| modules.contains(m));
    found
}

/// A path from `from` back to itself along `edges`, if there is one.
fn cycle_through(from: &str, edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    let mut stack = vec![vec![from.to_owned()]];
    let mut seen = BTreeSet::new();
    while let Some(path) = stack.pop() {
        let last = path.last().unwrap();
        for next in edges.get(last).into_iter().flatten() {
            if next == from {
                let mut cycle = path.clone();
                cycle.push(from.to_owned());
                return Some(cycle);
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push(longer);
            }
        }
    }
    None
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &root, &mut files);
    let top = |rel: &str| {
        let first = rel.split(['/', '\\']).next().unwrap_or("");
        first.trim_end_matches(".rs").to_owned()
    };
    let modules: BTreeSet<String> = files
        .iter()
        .map(|(rel, _)| top(rel))
        .filter(|m| m != "lib" && m != "main")
        .collect();
    assert!(modules.len() > 20, "the source tree was read: {modules:?}");
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut why: BTreeMap<(String, String), String> = BTreeMap::new();
    for (rel, text) in &files {
        let from = top(rel);
        if !modules.contains(&from) {
            continue;
        }
        for to in named(text, &modules) {
            if to != from {
                why.entry((from.clone(), to.clone()))
                    .or_insert_with(|| rel.clone());
                edges.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    for module in &modules {
        if let Some(cycle) = cycle_through(module, &edges) {
            let steps: Vec<String> = cycle
                .windows(2)
                .map(|w| {
                    format!(
                        "{} -> {} ({})",
                        w[0],
                        w[1],
                        why[&(w[0].clone(), w[1].clone())]
                    )
                })
                .collect();
            panic!("an import cycle: {}", steps.join(", "));
        }
    }
}

#[test]
fn the_check_sees_a_cycle_when_there_is_one() {
    let modules: BTreeSet<String> = ["a", "b", "c"].map(String::from).into();
    assert_eq!(
        named("use crate::{b::X, c};\nfn f() { crate::a::g() }", &modules),
        modules
    );
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    edges.entry("a".into()).or_default().insert("b".into());
    edges.entry("b".into()).or_default().insert("c".into());
    assert_eq!(cycle_through("a", &edges), None);
    edges.entry("c".into()).or_default().insert("a".into());
    assert_eq!(
        cycle_through("a", &edges),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}
