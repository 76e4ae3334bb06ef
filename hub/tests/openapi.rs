//! hub/openapi.yaml describes the API there is: every route of the router, nothing else, the
//! rejection codes and the error codes the handlers use.

mod common;

use std::collections::BTreeSet;

use medseal_hub::http::ROUTES;
use serde_yaml_ng::Value;

fn document() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml")).unwrap();
    serde_yaml_ng::from_str(&text).unwrap()
}

fn strings(value: &Value) -> BTreeSet<String> {
    value.as_sequence().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
}

#[test]
fn every_route_is_described_and_nothing_else() {
    let doc = document();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."));
    let mut described = BTreeSet::new();
    for (path, item) in doc["paths"].as_mapping().unwrap() {
        for (method, _) in item.as_mapping().unwrap() {
            described.insert((method.as_str().unwrap().to_uppercase(), path.as_str().unwrap().to_owned()));
        }
    }
    let routes: BTreeSet<(String, String)> = ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    assert_eq!(described, routes);
}

#[test]
fn every_route_is_served() {
    // The router is built from ROUTES; check that each one answers (not the 404 fallback).
    let pilot = common::Pilot::new();
    for (method, path) in ROUTES {
        let (status, body) = match method {
            "GET" => pilot.get(path),
            "POST" => {
                let (status, _, body) = pilot.a.post_raw(&pilot.url(path), common::PROTOBUF, b"");
                (status, body)
            }
            other => panic!("no test for {other}"),
        };
        assert!(status != 404 && status != 405, "{method} {path}: {status} {}", String::from_utf8_lossy(&body));
    }
}

#[test]
fn codes_are_described() {
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    let rejections = strings(&schemas["RejectionCode"]["enum"]);
    let codes: BTreeSet<String> = medseal_hub::Code::ALL.iter().map(|c| c.as_str().to_owned()).collect();
    assert_eq!(rejections, codes);
    let statuses = strings(&schemas["RecordStatus"]["enum"]);
    assert_eq!(statuses, ["ACCEPTED", "DUPLICATE", "REJECTED"].map(String::from).into());

    // Every error code written by the handlers is in the Error schema.
    let described = strings(&schemas["Error"]["properties"]["code"]["enum"]);
    let source = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/http.rs")).unwrap();
    let mut used = BTreeSet::new();
    for piece in source.split('"').skip(1).step_by(2) {
        let is_code = piece.len() > 2 && piece.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') && piece.contains('_')
            || ["INTERNAL", "RANGE", "OVERLOADED", "UNAVAILABLE"].contains(&piece);
        if is_code {
            used.insert(piece.to_owned());
        }
    }
    assert!(used.len() >= 10, "{used:?}");
    let missing: Vec<_> = used.difference(&described).collect();
    assert!(missing.is_empty(), "error codes missing from openapi.yaml: {missing:?}");
}

#[test]
fn every_reference_resolves() {
    let doc = document();
    let schemas = doc["components"]["schemas"].as_mapping().unwrap();
    let schemes = doc["components"]["securitySchemes"].as_mapping().unwrap();
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(refs.len() > 20);
    let responses = doc["components"]["responses"].as_mapping().unwrap();
    for r in refs {
        if let Some(name) = r.strip_prefix("#/components/responses/") {
            assert!(responses.contains_key(name), "{r}");
            continue;
        }
        let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("unexpected $ref {r}"));
        assert!(schemas.contains_key(name), "{r}");
    }
    for requirement in doc["security"].as_sequence().unwrap() {
        for (name, _) in requirement.as_mapping().unwrap() {
            assert!(schemes.contains_key(name));
        }
    }
}

/// The links schemathesis' stateful tests follow (from submission results and tree heads to
/// the proof endpoints) name operations and parameters that exist, and each operation with
/// integer parameters is the target of one.
#[test]
fn every_link_names_an_operation_and_its_parameters() {
    let doc = document();
    let mut operations = std::collections::BTreeMap::new();
    for (_, item) in doc["paths"].as_mapping().unwrap() {
        for (_, operation) in item.as_mapping().unwrap() {
            let names: BTreeSet<String> = operation["parameters"]
                .as_sequence()
                .map(|p| p.iter().filter(|p| p["in"] == "query").map(|p| p["name"].as_str().unwrap().to_owned()).collect())
                .unwrap_or_default();
            operations.insert(operation["operationId"].as_str().unwrap().to_owned(), names);
        }
    }
    let mut targets = BTreeSet::new();
    for (_, item) in doc["paths"].as_mapping().unwrap() {
        for (_, operation) in item.as_mapping().unwrap() {
            for (_, response) in operation["responses"].as_mapping().unwrap() {
                let Some(links) = response.get("links") else { continue };
                for (name, link) in links.as_mapping().unwrap() {
                    let target = link["operationId"].as_str().unwrap();
                    let parameters = operations.get(target).unwrap_or_else(|| panic!("link {name:?}: no operation {target}"));
                    for (parameter, expression) in link["parameters"].as_mapping().unwrap() {
                        assert!(parameters.contains(parameter.as_str().unwrap()), "link {name:?}: {target} has no {parameter:?}");
                        if let Some(expression) = expression.as_str() {
                            assert!(expression.starts_with("$response.body#/"), "link {name:?}: {expression}");
                        }
                    }
                    targets.insert(target.to_owned());
                }
            }
        }
    }
    let with_parameters: BTreeSet<String> = operations.iter().filter(|(_, p)| !p.is_empty()).map(|(o, _)| o.clone()).collect();
    assert_eq!(targets, with_parameters);
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Mapping(m) => {
            for (k, v) in m {
                if k.as_str() == Some("$ref") {
                    out.push(v.as_str().unwrap().to_owned());
                } else {
                    collect_refs(v, out);
                }
            }
        }
        Value::Sequence(s) => s.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}
