//! Values for the string formats JSON Schema and OpenAPI name, valid and
//! invalid (for the negative phase's "bad format" mutation).

use super::value::Shape;

/// A valid value for `format`, or `None` for formats the validator does not
/// check (any string then does).
pub fn generate(format: &str, rng: &mut fastrand::Rng, shape: Shape) -> Option<String> {
    let n = match shape {
        Shape::Smallest => 0,
        Shape::Largest => 9,
        Shape::Random => rng.u32(..1000),
    };
    let s = match format {
        "date-time" => format!("{}T{}Z", date(rng, shape), time(rng, shape)),
        "date" => date(rng, shape),
        "time" => format!("{}Z", time(rng, shape)),
        "uuid" | "guid" => uuid(rng),
        "email" | "idn-email" => format!("user{n}@example.com"),
        "uri" | "iri" | "url" => format!("https://example.com/item/{n}"),
        "uri-reference" | "iri-reference" => format!("/item/{n}"),
        "uri-template" => "/item/{id}".to_string(),
        "hostname" | "idn-hostname" => format!("host{n}.example.com"),
        "ipv4" => format!("192.0.2.{}", n % 255),
        "ipv6" => format!("2001:db8::{:x}", n),
        "byte" => "YXBpY29uZm9ybQ==".to_string(),
        "duration" => format!("P{}D", n + 1),
        "regex" => "^[a-z]+$".to_string(),
        "json-pointer" => format!("/item/{n}"),
        "relative-json-pointer" => "0/item".to_string(),
        _ => return None,
    };
    Some(s)
}

/// A string the validator rejects for `format`, when the format is checked.
pub fn invalid(format: &str) -> Option<&'static str> {
    Some(match format {
        "date-time" => "2021-13-45T25:61:00",
        "date" => "2021-02-30x",
        "time" => "25:61:99",
        "uuid" | "guid" => "not-a-uuid",
        "email" | "idn-email" => "not an email",
        "uri" | "iri" | "url" => "not a uri",
        "hostname" | "idn-hostname" => "-bad-.host-",
        "ipv4" => "999.1.1.1",
        "ipv6" => "12345::zz",
        "duration" => "one day",
        "regex" => "([",
        "json-pointer" => "no-leading-slash",
        _ => return None,
    })
}

fn date(rng: &mut fastrand::Rng, shape: Shape) -> String {
    match shape {
        Shape::Smallest => "2000-01-01".into(),
        Shape::Largest => "2024-02-29".into(),
        Shape::Random => format!(
            "{:04}-{:02}-{:02}",
            rng.u32(1990..2030),
            rng.u32(1..=12),
            rng.u32(1..=28)
        ),
    }
}

fn time(rng: &mut fastrand::Rng, shape: Shape) -> String {
    match shape {
        Shape::Smallest => "00:00:00".into(),
        Shape::Largest => "23:59:59".into(),
        Shape::Random => format!(
            "{:02}:{:02}:{:02}",
            rng.u32(..24),
            rng.u32(..60),
            rng.u32(..60)
        ),
    }
}

/// A version-4 UUID from the seeded source (deterministic, unlike `Uuid::new_v4`).
fn uuid(rng: &mut fastrand::Rng) -> String {
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_deterministic_and_shaped() {
        let mut a = fastrand::Rng::with_seed(7);
        let mut b = fastrand::Rng::with_seed(7);
        assert_eq!(
            generate("uuid", &mut a, Shape::Random),
            generate("uuid", &mut b, Shape::Random)
        );
        assert_eq!(
            generate("date-time", &mut a, Shape::Smallest).as_deref(),
            Some("2000-01-01T00:00:00Z")
        );
        assert_eq!(generate("x-custom", &mut a, Shape::Random), None);
        assert!(invalid("uuid").is_some() && invalid("binary").is_none());
    }
}
