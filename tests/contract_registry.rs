//! Every contract test is run: each `pub async fn` of a suite under
//! `tests/contract/` must be named in `contract_suite!`, so that a new test
//! cannot be left out of the runners without this failing.

#![cfg(not(target_arch = "wasm32"))]

use std::fs;
use std::path::Path;

#[test]
fn every_contract_test_is_registered_in_the_suite_macro() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/contract");
    let registry = fs::read_to_string(folder.join("mod.rs")).unwrap();
    let macro_body = &registry[registry.find("macro_rules! contract_suite").expect("the contract_suite! macro")..];
    let registered: Vec<&str> = macro_body.split(|c: char| !(c.is_alphanumeric() || c == '_')).collect();
    let mut missing = Vec::new();
    let mut found = 0;
    for entry in fs::read_dir(&folder).unwrap() {
        let path = entry.unwrap().path();
        let suite = path.file_stem().unwrap().to_string_lossy().into_owned();
        if suite == "mod" {
            continue;
        }
        for line in fs::read_to_string(&path).unwrap().lines() {
            let Some(rest) = line.strip_prefix("pub async fn ") else { continue };
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            found += 1;
            if !registered.contains(&name.as_str()) {
                missing.push(format!("{suite}::{name}"));
            }
        }
    }
    assert!(found > 40, "found only {found} contract tests: is the folder right?");
    assert!(missing.is_empty(), "contract tests not run by any adapter (add them to contract_suite!): {missing:?}");
}
