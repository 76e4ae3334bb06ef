//! FHIR signature canonicalization variants (FHIR R4 `Signature.sigFormat` canonicalization
//! URIs `http://hl7.org/fhir/canonicalization/json#data|#static|#document`).

use super::value::Value;
use crate::error::{err, Result};

/// Which elements are removed before signing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FhirVariant {
    /// `#data`: drop the narrative (`text`) of every resource in the document.
    Data,
    /// `#static`: drop `text` and `meta` of every resource in the document.
    Static,
    /// `#document`: drop `id` and `meta` of the root resource only, so a document keeps its
    /// signature when copied from server to server.
    Document,
}

impl FhirVariant {
    /// The canonicalization URI FHIR uses for this variant.
    pub fn uri(self) -> &'static str {
        match self {
            FhirVariant::Data => "http://hl7.org/fhir/canonicalization/json#data",
            FhirVariant::Static => "http://hl7.org/fhir/canonicalization/json#static",
            FhirVariant::Document => "http://hl7.org/fhir/canonicalization/json#document",
        }
    }

    /// Parses `data`, `static` or `document`.
    pub fn from_name(name: &str) -> Option<FhirVariant> {
        match name {
            "data" => Some(FhirVariant::Data),
            "static" => Some(FhirVariant::Static),
            "document" => Some(FhirVariant::Document),
            _ => None,
        }
    }

    /// Removes the elements this variant excludes. The root must be a FHIR resource: an
    /// object with a string `resourceType`.
    pub fn apply(self, root: &mut Value<'_>) -> Result<()> {
        if !is_resource(root) {
            return Err(err!(MEDSEAL_JSON_NOT_FHIR, "the document is not a FHIR resource (an object with a string \"resourceType\")"));
        }
        match self {
            FhirVariant::Data => strip_resources(root, &["text"]),
            FhirVariant::Static => strip_resources(root, &["text", "meta"]),
            FhirVariant::Document => {
                root.remove("id");
                root.remove("meta");
            }
        }
        Ok(())
    }
}

fn is_resource(value: &Value<'_>) -> bool {
    value.get("resourceType").and_then(Value::as_str).is_some()
}

/// Removes `keys` from every resource object found anywhere in `value` (contained resources,
/// Bundle entries, Parameters parts).
fn strip_resources(value: &mut Value<'_>, keys: &[&str]) {
    if is_resource(value) {
        for key in keys {
            value.remove(key);
        }
    }
    match value {
        Value::Object(members) => members.iter_mut().for_each(|(_, v)| strip_resources(v, keys)),
        Value::Array(items) => items.iter_mut().for_each(|v| strip_resources(v, keys)),
        _ => {}
    }
}
