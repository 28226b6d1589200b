//! Bearer-token identification shared by both APIs.

use std::collections::HashMap;

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;

/// Who is calling, as far as the `Authorization` header tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Caller {
    /// No `Authorization` header at all.
    Anonymous,
    /// A header that is not `Bearer <known token>`.
    Invalid,
    /// A known token: its identity (EnableNow clientId or mycloud userId).
    Known(String),
}

/// Maps the `Authorization` header to a caller; the scheme is case-insensitive
/// as RFC 9110 requires.
pub(crate) fn identify(tokens: &HashMap<String, String>, headers: &HeaderMap) -> Caller {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Caller::Anonymous;
    };
    let Ok(value) = value.to_str() else {
        return Caller::Invalid;
    };
    let Some((scheme, token)) = value.trim().split_once(' ') else {
        return Caller::Invalid;
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Caller::Invalid;
    }
    match tokens.get(token.trim()) {
        Some(identity) => Caller::Known(identity.clone()),
        None => Caller::Invalid,
    }
}
