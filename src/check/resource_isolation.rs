//! What one identity creates, a second identity does not see: the run's
//! configuration names the second identity (`other_credential`, `fuzz
//! --other-header`), so the user states that the two must be isolated.
//!
//! Judged only for an id no other tenant could own by chance (a UUID or a
//! long opaque string): with short per-tenant ids (`1`, `2`, ...) the second
//! identity may rightly have a resource of its own under the same id.

use serde_json::Value;

use super::{Exchange, Finding, Outcome, generated};
use crate::generate::plan::ChainRole;

/// Shortest id taken as unique across tenants when it is not a UUID.
const MIN_OPAQUE_ID: usize = 16;

/// The second identity's read of the created resource is refused (401,
/// 403 or 404), and its list does not hold it.
pub fn resource_isolation(x: &Exchange<'_>) -> Outcome {
    let g = match generated(x) {
        Ok(g) => g,
        Err(skip) => return skip,
    };
    let list = match g.role {
        Some(ChainRole::OtherRead) => false,
        Some(ChainRole::OtherList) => true,
        _ => return Outcome::Skip("not a request by the second identity".into()),
    };
    let Some(create) = g.history.iter().rev().find(|p| p.role == ChainRole::Create) else {
        return Outcome::Skip("no create earlier in the chain".into());
    };
    if !(200..300).contains(&create.status) {
        return Outcome::Skip(format!("the create did not succeed ({})", create.status).into());
    }
    let ids: Vec<&str> = create
        .ids
        .iter()
        .filter_map(Value::as_str)
        .filter(|id| is_unique_id(id))
        .collect();
    if ids.is_empty() {
        return Outcome::Skip(
            "the created id may be per tenant (not a UUID or long opaque id)".into(),
        );
    }
    let label = x.operation.label();
    match x.status {
        401 | 403 | 404 => Outcome::Pass,
        s if (200..300).contains(&s) && !list => Outcome::Fail(vec![Finding::new(format!(
            "{label} by the second identity answered {s} for a resource the first one created; 401, 403 or 404 was expected"
        ))]),
        s if (200..300).contains(&s) => listed(x, &ids, &label),
        s => Outcome::Skip(format!("the second identity got {s}").into()),
    }
}

/// A list by the second identity must not hold an item carrying the id.
fn listed(x: &Exchange<'_>, ids: &[&str], label: &str) -> Outcome {
    let Some(Ok(body)) = x.json else {
        return Outcome::Skip("the list gave no JSON body".into());
    };
    let Some((pointer, items)) = items_of(body) else {
        return Outcome::Skip("no list of items in the body".into());
    };
    let found = items.iter().enumerate().find(|(_, item)| {
        item.as_object().is_some_and(|o| {
            o.values()
                .any(|v| v.as_str().is_some_and(|s| ids.contains(&s)))
        })
    });
    match found {
        None => Outcome::Pass,
        Some((i, _)) => {
            let mut f = Finding::new(format!(
                "{label} by the second identity lists the resource the first one created"
            ));
            f.json_path = Some(super::pointer_to_path(&format!("{pointer}/{i}")));
            Outcome::Fail(vec![f])
        }
    }
}

/// The items of a list response: the body itself when it is an array, else
/// its one array-valued member (`{"data": [...], "_pagination": {...}}`).
fn items_of(body: &Value) -> Option<(String, &Vec<Value>)> {
    match body {
        Value::Array(items) => Some((String::new(), items)),
        Value::Object(map) => {
            let mut arrays = map.iter().filter_map(|(k, v)| v.as_array().map(|a| (k, a)));
            let (key, items) = arrays.next()?;
            if arrays.next().is_some() {
                return None; // Two lists: which holds the items is unclear.
            }
            Some((format!("/{}", crate::spec::escape_token(key)), items))
        }
        _ => None,
    }
}

/// A UUID, or an opaque id long enough not to collide across tenants.
fn is_unique_id(id: &str) -> bool {
    uuid::Uuid::parse_str(id).is_ok()
        || (id.len() >= MIN_OPAQUE_ID && !id.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testkit::{headers, phase, spec};
    use crate::check::{Generated, Prior};
    use crate::generate::plan::Phase;
    use serde_json::json;

    const ID: &str = "e50c460d-0e18-4846-41e9-08de94a79554";

    fn created(id: &str, status: u16) -> [Prior; 1] {
        [Prior {
            role: ChainRole::Create,
            operation: "createPet".into(),
            status,
            body: None,
            ids: vec![json!(id)],
        }]
    }

    fn judge(role: ChainRole, history: &[Prior], status: u16, body: Value) -> Outcome {
        let spec = spec();
        let h = headers(&[]);
        let json = Ok(body);
        let g = Generated {
            role: Some(role),
            history,
            ..phase(Phase::Stateful)
        };
        let x = Exchange {
            spec: &spec,
            operation: spec.operation_by_id("getPet").expect("operation"),
            request_body: None,
            request_body_valid: false,
            expects_success: false,
            status,
            headers: &h,
            json: Some(&json),
            generated: Some(&g),
            looked_up: Default::default(),
        };
        resource_isolation(&x)
    }

    #[test]
    fn the_second_identity_cannot_read_it() {
        let h = created(ID, 201);
        assert_eq!(
            judge(ChainRole::OtherRead, &h, 404, json!({})),
            Outcome::Pass
        );
        assert_eq!(
            judge(ChainRole::OtherRead, &h, 403, json!({})),
            Outcome::Pass
        );
        assert!(matches!(
            judge(ChainRole::OtherRead, &h, 200, json!({"id": ID})),
            Outcome::Fail(_)
        ));
        // A short id may be the other tenant's own resource.
        let short = created("17", 201);
        assert!(matches!(
            judge(ChainRole::OtherRead, &short, 200, json!({})),
            Outcome::Skip(_)
        ));
        let failed = created(ID, 400);
        assert!(matches!(
            judge(ChainRole::OtherRead, &failed, 200, json!({})),
            Outcome::Skip(_)
        ));
        assert!(matches!(
            judge(ChainRole::Read, &h, 200, json!({})),
            Outcome::Skip(_)
        ));
    }

    #[test]
    fn the_second_identity_does_not_list_it() {
        let h = created(ID, 201);
        let page = |ids: &[&str]| {
            json!({"_pagination": {"page": 1},
                   "data": ids.iter().map(|i| json!({"id": i})).collect::<Vec<_>>()})
        };
        let other = "3f2a7c1e-9b4d-4e2a-8c6f-1d2e3f4a5b6c";
        assert_eq!(
            judge(ChainRole::OtherList, &h, 200, page(&[other])),
            Outcome::Pass
        );
        let Outcome::Fail(f) = judge(ChainRole::OtherList, &h, 200, page(&[other, ID])) else {
            panic!("listed")
        };
        assert_eq!(f[0].json_path.as_deref(), Some("$.data[1]"));
        assert!(matches!(
            judge(ChainRole::OtherList, &h, 200, json!([{"id": ID}])),
            Outcome::Fail(_)
        ));
        // Two arrays: which one holds the items is unclear.
        assert!(matches!(
            judge(
                ChainRole::OtherList,
                &h,
                200,
                json!({"a": [], "b": [{"id": ID}]})
            ),
            Outcome::Skip(_)
        ));
        assert!(is_unique_id("AbCdEfGhIjKlMnOpQr") && !is_unique_id("12345678901234567890"));
    }
}
