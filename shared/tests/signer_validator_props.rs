//! Property tests: whatever we sign, our validator (CloudFront's rules)
//! accepts inside the window and refuses once any byte is changed.

use std::net::{IpAddr, Ipv4Addr};

use proptest::prelude::*;
use reelgate_shared::cloudfront::validator::{self, Denial, Request};
use reelgate_shared::cloudfront::{
    CookieAttributes, Ipv4Cidr, Policy, SameSite, resource_matches, sign_cookies, sign_url,
};
use reelgate_shared::crypto::PolicyHash;
use reelgate_shared::crypto::native::{PublicKeySet, SigningKey};
use reelgate_shared::{EpochSeconds, KeyPairId};
use regex::Regex;

const RSA: &str = include_str!("keys/rsa2048.pkcs8.pem");
const P256: &str = include_str!("keys/p256.sec1.pem");

fn key(ecdsa: bool) -> (SigningKey, PublicKeySet, KeyPairId) {
    let key = SigningKey::from_pem(if ecdsa { P256 } else { RSA }).unwrap();
    let id = KeyPairId::parse(if ecdsa { "K2ECDSA" } else { "K1RSA" }).unwrap();
    let keys = PublicKeySet::new().with(id.clone(), key.public_key());
    (key, keys, id)
}

/// CloudFront's `Resource` wildcards as a regular expression, the
/// independent oracle for `resource_matches`: `*` is any run of characters
/// (also none), `?` exactly one, everything else itself, over the whole URL.
fn wildcard_regex(pattern: &str) -> Regex {
    let mut regex = String::from("(?s)^");
    for c in pattern.chars() {
        match c {
            '*' => regex.push_str(".*"),
            '?' => regex.push('.'),
            c => regex.push_str(&regex::escape(&c.to_string())),
        }
    }
    regex.push('$');
    Regex::new(&regex).unwrap()
}

fn segment() -> impl Strategy<Value = String> {
    "[A-Za-z0-9._~-]{1,12}"
}

prop_compose! {
    fn url()(segments in prop::collection::vec(segment(), 1..4),
             query in prop::option::of(prop::collection::vec(("[a-z]{1,6}", "[A-Za-z0-9]{0,6}"), 1..3)))
             -> String {
        let mut url = format!("https://d111111abcdef8.cloudfront.net/{}", segments.join("/"));
        if let Some(query) = query {
            let pairs: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            url.push('?');
            url.push_str(&pairs.join("&"));
        }
        url
    }
}

#[derive(Debug, Clone)]
struct Case {
    url: String,
    ecdsa: bool,
    sha256: bool,
    expires: u64,
    starts: Option<u64>,
    ip: Option<(Ipv4Addr, u8)>,
    wildcard: bool,
}

prop_compose! {
    fn case()(url in url(), ecdsa: bool, sha256: bool, expires in 1_000_000u64..4_000_000_000,
              starts_back in prop::option::of(2u64..100_000), ip in prop::option::of((any::<[u8; 4]>(), 0u8..=32)),
              wildcard: bool) -> Case {
        Case {
            url,
            ecdsa,
            sha256,
            expires,
            starts: starts_back.map(|back| expires - back),
            ip: ip.map(|(o, p)| (Ipv4Addr::from(o), p)),
            wildcard,
        }
    }
}

impl Case {
    fn policy(&self) -> Policy {
        let expires = EpochSeconds::new(self.expires);
        if self.starts.is_none() && self.ip.is_none() && !self.wildcard {
            return Policy::canned(self.url.clone(), expires);
        }
        let resource = if self.wildcard {
            let path_end = self.url.rfind('/').unwrap();
            format!("{}/*", &self.url[..path_end])
        } else {
            self.url.clone()
        };
        let mut policy = Policy::custom(resource, expires).unwrap();
        if let Some(starts) = self.starts {
            policy = policy.starting(EpochSeconds::new(starts)).unwrap();
        }
        if let Some((addr, prefix)) = self.ip {
            policy = policy.from_ip(Ipv4Cidr::new(addr, prefix).unwrap());
        }
        policy
    }

    fn hash(&self) -> PolicyHash {
        if self.sha256 {
            PolicyHash::Sha256
        } else {
            PolicyHash::Sha1
        }
    }

    fn client(&self) -> IpAddr {
        IpAddr::V4(
            self.ip
                .map_or(Ipv4Addr::new(203, 0, 113, 9), |(addr, _)| addr),
        )
    }

    /// A moment inside the policy's window.
    fn now(&self) -> EpochSeconds {
        EpochSeconds::new(self.starts.map_or(self.expires - 1, |s| s + 1))
    }

    fn decide(
        &self,
        url: &str,
        cookies: Option<&str>,
        now: EpochSeconds,
        keys: &PublicKeySet,
    ) -> Result<(), Denial> {
        validator::validate(
            &Request {
                url,
                cookie_header: cookies,
                client_ip: Some(self.client()),
                now,
            },
            keys,
        )
        .map(|_| ())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn resource_matching_agrees_with_a_regex_translation(pattern in "[ab/.*?]{0,10}", text in "[ab/.]{0,12}") {
        prop_assert_eq!(
            resource_matches(&pattern, &text),
            wildcard_regex(&pattern).is_match(&text),
            "pattern {:?} text {:?}", pattern, text
        );
    }

    #[test]
    fn signed_urls_validate_inside_their_window(case in case()) {
        let (key, keys, id) = key(case.ecdsa);
        let policy = case.policy();
        let signed = sign_url(&case.url, &policy, &id, case.hash(), &key).unwrap();
        prop_assert_eq!(case.decide(&signed, None, case.now(), &keys), Ok(()));
        prop_assert_eq!(
            case.decide(&signed, None, EpochSeconds::new(case.expires), &keys),
            Err(Denial::Expired)
        );
        if let Some(starts) = case.starts {
            prop_assert_eq!(
                case.decide(&signed, None, EpochSeconds::new(starts), &keys),
                Err(Denial::NotYetValid)
            );
        }
    }

    #[test]
    fn signed_cookies_validate_for_urls_under_their_resource(case in case(), leaf in segment()) {
        let (key, keys, id) = key(case.ecdsa);
        let policy = case.policy();
        let cookies = sign_cookies(&policy, &id, case.hash(), &key).unwrap();
        let header: Vec<String> = cookies.pairs().iter().map(|(n, v)| format!("{n}={v}")).collect();
        let header = header.join("; ");
        prop_assert_eq!(case.decide(&case.url, Some(&header), case.now(), &keys), Ok(()));
        let sibling = format!("{}/{leaf}.ts", &case.url[..case.url.rfind('/').unwrap()]);
        // A canned policy is rebuilt from the requested URL, so it only ever
        // signs that one URL: elsewhere its signature cannot match.
        let expected = if sibling == case.url || !policy.is_canned() && wildcard_regex(policy.resource()).is_match(&sibling) {
            Ok(())
        } else if policy.is_canned() {
            Err(Denial::BadSignature)
        } else {
            Err(Denial::ResourceMismatch)
        };
        prop_assert_eq!(case.decide(&sibling, Some(&header), case.now(), &keys), expected);
    }

    #[test]
    fn changing_any_byte_of_signature_or_policy_is_refused(case in case(), position: prop::sample::Index, flip in 1u8..=255) {
        let (key, keys, id) = key(case.ecdsa);
        let policy = case.policy();
        let cookies = sign_cookies(&policy, &id, case.hash(), &key).unwrap();
        let pairs = cookies.pairs();
        // Tamper with the decoded bytes of the policy (or Expires) or the signature.
        let target = position.index(2);
        let mut tampered: Vec<(String, String)> = pairs.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect();
        let (name, value) = &mut tampered[target];
        if name == "CloudFront-Expires" {
            *value = (value.parse::<u64>().unwrap() ^ u64::from(flip)).to_string();
        } else {
            let mut bytes = reelgate_shared::cloudfront::base64::decode(value).unwrap();
            let i = position.index(bytes.len());
            bytes[i] ^= flip;
            *value = reelgate_shared::cloudfront::base64::encode(&bytes);
        }
        let header: Vec<String> = tampered.iter().map(|(n, v)| format!("{n}={v}")).collect();
        let denial = case.decide(&case.url, Some(&header.join("; ")), case.now(), &keys).unwrap_err();
        prop_assert!(
            matches!(denial, Denial::BadSignature | Denial::MalformedPolicy),
            "unexpected {:?}", denial
        );
    }

    #[test]
    fn cookie_headers_carry_the_configured_scope(case in case()) {
        let (key, _, id) = key(case.ecdsa);
        let cookies = sign_cookies(&case.policy(), &id, case.hash(), &key).unwrap();
        let attributes = CookieAttributes::new("/videos/demo/", SameSite::Lax).unwrap().with_max_age(300);
        let headers = cookies.set_cookie_headers(&attributes);
        prop_assert_eq!(headers.len(), if case.sha256 { 4 } else { 3 });
        for header in headers {
            prop_assert!(header.contains("; Path=/videos/demo/"), "{}", header);
            prop_assert!(header.contains("; Secure; HttpOnly; SameSite=Lax"), "{}", header);
        }
    }
}

#[test]
fn an_unknown_key_pair_id_is_refused_before_anything_else() {
    let (key, _, id) = key(true);
    let other = PublicKeySet::new();
    let url = "https://d.net/videos/a/master.m3u8";
    let signed = sign_url(
        url,
        &Policy::canned(url, EpochSeconds::new(100)),
        &id,
        PolicyHash::Sha1,
        &key,
    )
    .unwrap();
    let request = Request {
        url: &signed,
        cookie_header: None,
        client_ip: None,
        now: EpochSeconds::new(1),
    };
    assert_eq!(
        validator::validate(&request, &other),
        Err(Denial::UnknownKey)
    );
}

#[test]
fn a_request_without_credentials_is_missing_its_key() {
    let request = Request {
        url: "https://d.net/videos/a/1.ts",
        cookie_header: Some("theme=dark"),
        client_ip: None,
        now: EpochSeconds::new(1),
    };
    assert_eq!(
        validator::validate(&request, &PublicKeySet::new()),
        Err(Denial::MissingKey)
    );
}

#[test]
fn an_ipv6_client_never_matches_an_ip_bound_policy() {
    let (key, keys, id) = key(true);
    let url = "https://d.net/videos/a/master.m3u8";
    let policy = Policy::custom(url, EpochSeconds::new(100))
        .unwrap()
        .from_ip("0.0.0.0/0".parse().unwrap());
    let signed = sign_url(url, &policy, &id, PolicyHash::Sha1, &key).unwrap();
    let request = Request {
        url: &signed,
        cookie_header: None,
        client_ip: Some("::1".parse().unwrap()),
        now: EpochSeconds::new(1),
    };
    assert_eq!(
        validator::validate(&request, &keys),
        Err(Denial::IpNotAllowed)
    );
}

#[test]
fn keys_of_the_wrong_size_or_curve_are_refused() {
    use reelgate_shared::crypto::native::KeyError;
    assert_eq!(
        SigningKey::from_pem(include_str!("keys/rsa1024.pem")).unwrap_err(),
        KeyError::RsaSize(1024)
    );
    assert!(SigningKey::from_pem(include_str!("keys/p384.sec1.pem")).is_err());
    assert_eq!(
        SigningKey::from_pem("not a key").unwrap_err(),
        KeyError::NotPem
    );
    for pem in [
        include_str!("keys/rsa2048.pkcs1.pem"),
        include_str!("keys/p256.pkcs8.pem"),
    ] {
        SigningKey::from_pem(pem).unwrap();
    }
}
