//! Deliberate deviations a conformance suite should catch.
//!
//! Each fault is one variant of [`FaultId`], checked at exactly one point of
//! deviation in the handlers, so switching it on changes one behaviour only.

use super::Api;

/// A deliberate deviation from the reference behaviour, selected with `--fault NAME`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    /// The name given to `--fault`.
    pub name: &'static str,
    /// The API the fault changes: [`Api::EnableNow`] or [`Api::MyCloud`].
    pub api: Api,
    /// What changes, in one line.
    pub description: &'static str,
}

/// Declares the fault enum and the public table from one list, so a name,
/// its API and its description can never drift apart.
macro_rules! faults {
    ($($variant:ident = $name:literal, $api:ident, $desc:literal;)*) => {
        /// The internal handle of a fault, matched at its point of deviation.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum FaultId { $($variant),* }

        static FAULTS: &[Fault] = &[$(Fault { name: $name, api: Api::$api, description: $desc }),*];
        static IDS: &[FaultId] = &[$(FaultId::$variant),*];
    };
}

faults! {
    EnCreateReturns201 = "create-returns-201", EnableNow,
        "POST /shares answers 201 Created instead of 200 OK";
    EnCreateDataObject = "create-data-object", EnableNow,
        "POST /shares answers {\"data\": {\"id\": ...}} instead of the bare id string";
    EnCreateAcceptsNoIds = "create-accepts-no-ids", EnableNow,
        "POST /shares accepts a share whose consentIds, accountIds and analysisIds are all empty";
    EnNoDefaultExpiration = "no-default-expiration", EnableNow,
        "an omitted expirationDateUtc becomes the creation time (born expired) instead of now + 1 day";
    EnListIgnoresIsExpired = "list-ignores-isexpired", EnableNow,
        "GET /shares ignores the isExpired filter and lists every share";
    EnListWrongTotalPages = "list-wrong-totalpages", EnableNow,
        "_pagination.totalPages is floor(totalCount / size) instead of the ceiling";
    EnListSizeNotEchoed = "list-size-not-echoed", EnableNow,
        "_pagination.size is the number of items on the page instead of the requested pageSize";
    EnListNewestFirst = "list-sorted-newest-first", EnableNow,
        "GET /shares sorts newest first instead of oldest first";
    EnListTenantLeak = "list-tenant-leak", EnableNow,
        "GET /shares also lists shares created by other apps";
    EnGetTenantLeak = "get-tenant-leak", EnableNow,
        "GET /shares/{id} returns shares created by other apps";
    EnGetMalformedId400 = "get-malformed-id-400", EnableNow,
        "GET /shares/{id} with a malformed id answers 400 instead of 404";
    EnUpdateLost = "update-lost", EnableNow,
        "PUT /shares/{id} answers 204 but stores nothing";
    EnDeleteNoop = "delete-noop", EnableNow,
        "DELETE /shares/{id} answers 204 but the share stays";
    EnReferenceOmitted = "reference-omitted-when-null", EnableNow,
        "a share without reference omits the key instead of \"reference\": null";
    EnExpirationNotUtc = "expiration-not-utc", EnableNow,
        "expirationDateUtc is written with a +02:00 offset instead of Z";
    EnEmptyIdsAsNull = "empty-ids-as-null", EnableNow,
        "empty consentIds/accountIds/analysisIds are written as null instead of []";
    EnMissingAuthAccepted = "missing-auth-accepted", EnableNow,
        "a request without Authorization acts as the first configured identity instead of 401";
    EnValidationPlainJson = "validation-error-plain-json", EnableNow,
        "400 answers are application/json {\"message\"} instead of problem details";
    EnWebhookNotSent = "webhook-not-sent", EnableNow,
        "no webhook is delivered after a create";
    EnWebhookWrongEvent = "webhook-wrong-event", EnableNow,
        "the webhook event is \"share.created\" instead of \"databridge.share.created\"";

    McCreateReturns200 = "create-returns-200", MyCloud,
        "POST /v1/shares answers 200 OK instead of 201 Created";
    McCreateErrorNotNull = "create-error-not-null", MyCloud,
        "successful answers carry \"error\": {} instead of \"error\": null";
    McMissingShareId = "missing-shareid-in-create", MyCloud,
        "the create answer's data lacks shareId";
    McOwnerMismatchAccepted = "owner-mismatch-accepted", MyCloud,
        "POST /v1/shares accepts an ownerId other than the caller";
    McEmptyFileIdsAccepted = "empty-fileids-accepted", MyCloud,
        "POST /v1/shares accepts an empty fileIds list";
    McWrongLabelMissingParam = "wrong-label-missing-param", MyCloud,
        "a missing parameter is labelled GENERAL_INVALID_PARAMETER instead of GENERAL_INSUFFICIENT_PARAMETERS";
    McUseCacheIgnored = "use-cache-ignored", MyCloud,
        "useCache is dropped on create: GET shows useCache false and cacheUrl null";
    McPrivateSharePublic = "private-share-public", MyCloud,
        "private shares are readable by anyone, with or without a token";
    McPrivateOtherUser403 = "private-share-other-user-403", MyCloud,
        "a private share read by an unlisted user answers 403 instead of 404";
    McNoTokenPrivate404 = "no-token-private-404", MyCloud,
        "a private share read without a valid token answers 404 instead of 401";
    McUnknownShare500 = "unknown-share-500", MyCloud,
        "GET of an unknown share answers 500 GENERAL_UNKNOWN instead of 404";
    McTimesAsIsoStrings = "times-as-iso-strings", MyCloud,
        "dateCreated and lastModified are RFC 3339 strings instead of epoch milliseconds";
    McCorrelationIdNotEchoed = "correlation-id-not-echoed", MyCloud,
        "the correlationID request header is not echoed back";
    McPublicNeedsToken = "public-share-needs-token", MyCloud,
        "GET of a public share without a token answers 401 instead of 200";
    McPutAllowed = "put-allowed", MyCloud,
        "PUT /v1/shares/{id} answers 200 with the share instead of 405";
    McNoAllowHeader = "method-not-allowed-no-allow-header", MyCloud,
        "405 answers lack the Allow header";
    McErrorEnvelopeMissingData = "error-envelope-missing-data", MyCloud,
        "error bodies lack the \"data\": null member";
}

/// Every fault both reference servers know, in a stable order.
pub fn faults() -> &'static [Fault] {
    FAULTS
}

/// Finds a fault by its `--fault` name.
pub(crate) fn lookup(name: &str) -> Option<(FaultId, &'static Fault)> {
    FAULTS
        .iter()
        .zip(IDS.iter())
        .find(|(f, _)| f.name == name)
        .map(|(f, id)| (*id, f))
}
