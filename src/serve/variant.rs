//! Other reasonable readings of the contract, for testing the suites.
//!
//! A fault is wrong behaviour a suite must catch with a `must` requirement.
//! A variant is behaviour the documents allow: another reading of a decision
//! the specs mark as added while writing them (README "Decisions"), or of a
//! place the documents leave open. With a variant on, a certificate must stay
//! CONFORMANT, and only `should` requirements citing the variant's decision
//! may go unmet. Each variant changes one behaviour, at one point.

use super::Api;

/// A variant selected with `serve --variant NAME`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variant {
    /// The name given to `--variant`.
    pub name: &'static str,
    /// The API the variant changes.
    pub api: Api,
    /// The decision of specs/README.md whose other reading this is (`E31`).
    pub decision: &'static str,
    /// What changes, in one line.
    pub description: &'static str,
}

/// Declares the variant enum and the public table from one list.
macro_rules! variants {
    ($($id:ident = $name:literal, $api:ident, $decision:literal, $desc:literal;)*) => {
        /// The internal handle of a variant, matched at its point of change.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum VariantId { $($id),* }

        static VARIANTS: &[Variant] =
            &[$(Variant { name: $name, api: Api::$api, decision: $decision, description: $desc }),*];
        static IDS: &[VariantId] = &[$(VariantId::$id),*];
    };
}

variants! {
    EnImpossibleDatesRollOver = "impossible-dates-roll-over", EnableNow, "E12",
        "a date-time with impossible fields is normalised (30 February -> 2 March, hour 24 -> next day) instead of 400";
    EnPastExpirationRejected = "past-expiration-rejected", EnableNow, "E13",
        "POST /shares with an expirationDateUtc in the past answers 400 (PUT still accepts one)";
    EnExpiredHiddenById = "expired-hidden-by-id", EnableNow, "E18",
        "GET, PUT and DELETE of an expired share answer 404";
    EnIdListsSortedUnique = "id-lists-sorted-unique", EnableNow, "E25",
        "identifier lists are stored sorted and without duplicates";
    EnUnknownPropertiesRejected = "unknown-properties-rejected", EnableNow, "E26",
        "a create or update body with an unknown property answers 400";
    EnErrorKeysJsonPath = "error-keys-json-path", EnableNow, "E28",
        "errors keys are JSON paths as System.Text.Json writes them ($.consentIds[0], $.clientId)";
    EnErrorsUnderRequestKey = "errors-under-request-key", EnableNow, "E28",
        "every validation message is filed under the key \"request\" instead of the field's name";
    EnIdCheckedBeforeBody = "id-checked-before-body", EnableNow, "E31",
        "PUT /shares/{id} looks the share up before checking the body: an unknown or malformed id is 404 even with an invalid body";

    McNullFileIdsNotAList = "null-fileids-not-a-list", MyCloud, "M7",
        "a null fileIds is labelled GENERAL_INVALID_PARAMETER_LIST (\"is not a list\") instead of GENERAL_INSUFFICIENT_PARAMETERS";
    McOwnerCheckedBeforeList = "owner-checked-before-list", MyCloud, "M8",
        "SHARES_AUTH_OWNER_MISMATCH is reported before GENERAL_INVALID_PARAMETER_LIST";
    McInvalidTokenRejectedOnPublic = "invalid-token-rejected-on-public", MyCloud, "M11",
        "GET of a public share with an invalid token answers 401 instead of ignoring the token";
    McUseCacheDefaultsTrue = "usecache-defaults-true", MyCloud, "M17",
        "a create without useCache stores useCache true";
    McMethodNotAllowedAfterAuth = "method-not-allowed-after-auth", MyCloud, "M20",
        "PUT, PATCH and DELETE on a share check the token first: without a valid one they answer 401, not 405";
    McUnknownPropertiesRejected = "unknown-properties-rejected-mc", MyCloud, "M26",
        "a create body with an unknown property answers 400 GENERAL_INSUFFICIENT_PARAMETERS";
}

/// Every variant both reference servers know, in a stable order.
pub fn variants() -> &'static [Variant] {
    VARIANTS
}

/// Finds a variant by its `--variant` name.
pub(crate) fn lookup(name: &str) -> Option<(VariantId, &'static Variant)> {
    VARIANTS
        .iter()
        .zip(IDS.iter())
        .find(|(v, _)| v.name == name)
        .map(|(v, id)| (*id, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_distinct_from_faults() {
        for (i, v) in VARIANTS.iter().enumerate() {
            assert!(
                VARIANTS[i + 1..].iter().all(|w| w.name != v.name),
                "{}",
                v.name
            );
            assert!(
                super::super::faults().iter().all(|f| f.name != v.name),
                "{} is also a fault",
                v.name
            );
            assert!(lookup(v.name).is_some());
        }
        assert!(lookup("no-such-variant").is_none());
    }
}
