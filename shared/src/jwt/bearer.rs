//! The `Authorization: Bearer <token>` header (RFC 6750 §2.1) and the
//! `WWW-Authenticate` challenge a refused token gets (RFC 6750 §3), for
//! every reelgate host: the edge and the API read the header and answer
//! 401s by this one rule.

use super::error::TokenError;

/// The token of an `Authorization` header value. The scheme is matched
/// case-insensitively (RFC 7235 §2.1) and separated from the token by
/// spaces; a token is one non-empty run without whitespace (a b64token).
pub fn bearer_token(header: Option<&str>) -> Result<&str, TokenError> {
    let header = header.ok_or(TokenError::Missing)?;
    let malformed = TokenError::Malformed("expected Authorization: Bearer <token>");
    let (scheme, token) = header.split_once(' ').ok_or(malformed.clone())?;
    let token = token.trim_matches(' ');
    if !scheme.eq_ignore_ascii_case("bearer")
        || token.is_empty()
        || token.bytes().any(|b| b.is_ascii_whitespace())
    {
        return Err(malformed);
    }
    Ok(token)
}

/// The challenge for a 401 with this token-failure `reason`
/// ([`TokenError::reason`]): a request that sent no token learns only that
/// a bearer token is needed; any other failure says the token is invalid,
/// without saying why (the reason is in the body).
pub fn challenge(reason: &str) -> &'static str {
    if reason == TokenError::Missing.reason() {
        "Bearer"
    } else {
        "Bearer error=\"invalid_token\""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheme_is_case_insensitive_and_spaces_around_the_token_are_ignored() {
        for header in [
            "Bearer t.k.n",
            "bearer t.k.n",
            "BEARER t.k.n",
            "Bearer   t.k.n  ",
        ] {
            assert_eq!(bearer_token(Some(header)), Ok("t.k.n"), "{header:?}");
        }
    }

    #[test]
    fn no_header_is_a_missing_token() {
        assert_eq!(bearer_token(None), Err(TokenError::Missing));
    }

    #[test]
    fn other_schemes_and_shapes_are_malformed() {
        for header in [
            "Basic dXNlcjpwdw==",
            "Bearer",
            "Bearer ",
            "Bearertoken",
            "Bearer a b",
            "Bearer\tt",
        ] {
            assert_eq!(
                bearer_token(Some(header)).map_err(|e| e.reason()),
                Err("token_malformed"),
                "{header:?}"
            );
        }
    }

    #[test]
    fn only_a_missing_token_gets_the_bare_challenge() {
        assert_eq!(challenge("token_missing"), "Bearer");
        assert_eq!(
            challenge("token_malformed"),
            "Bearer error=\"invalid_token\""
        );
        assert_eq!(challenge("token_expired"), "Bearer error=\"invalid_token\"");
    }
}
