//! The `reelgate:ent` access-token claim written by the pre-token trigger.
//!
//! One string claim, because Cognito's V2 trigger accepts strings everywhere
//! and a compact text keeps tokens small:
//! `v=1;p=<premium_until>[;t=<tier>][;d=<max_devices>];g=<id>[@<expires_at>],…;c=<1|0>`
//! where `p` is optional, `t` is the active plan's tier (which decides the
//! catalogue titles the plan covers; only with `p`), `d` is the active
//! plan's concurrent-device limit (only with `p`; `crate::devices`), `g`
//! may be empty, and `c=1` says the
//! grant list is complete (the trigger stops at a configured number of grants).

use super::grant::{Grant, UserEntitlements};
use crate::devices::DeviceLimit;
use crate::ids::{Tier, VideoId};
use crate::time::EpochSeconds;

pub const CLAIM: &str = "reelgate:ent";

/// How many titles a token carries unless configured otherwise
/// (`REELGATE_CLAIMS_MAX_GRANTS`): at most 50 × 76 bytes (a 64-character
/// id, `@` and a 10-digit end, a comma) = 3.8 KB of claim, ~5 KB once
/// base64-encoded, inside the verifier's 8 KB token bound.
pub const DEFAULT_MAX_GRANTS: usize = 50;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenEntitlements {
    pub premium_until: Option<EpochSeconds>,
    /// The active plan's tier. A token without it (issued before tiers)
    /// cannot say which catalogue titles its plan covers.
    pub tier: Option<Tier>,
    /// The active plan's `max_devices`: the edge holds its viewers to it
    /// without reading the plan item.
    pub max_devices: Option<DeviceLimit>,
    /// Titles held when the token was issued; `Some` time for rentals.
    pub grants: Vec<(VideoId, Option<EpochSeconds>)>,
    pub complete: bool,
}

/// Why a claim could not be read. The edge then asks the store: a bad claim
/// must never grant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimsError {
    #[error("entitlement claim version is not 1")]
    UnknownVersion,
    #[error("entitlement claim field {0} is malformed")]
    BadField(&'static str),
}

impl TokenEntitlements {
    /// What the pre-token trigger puts in a token for `all` at `now`: the
    /// active plan, and the active grants newest first, at most
    /// `max_grants`; `complete` says whether every active grant fit.
    pub fn select(all: &UserEntitlements, max_grants: usize, now: EpochSeconds) -> Self {
        let mut active: Vec<&Grant> = all.grants.iter().filter(|g| g.is_active(now)).collect();
        active.sort_by(|a, b| Grant::newest_first(a, b));
        let plan = all.plan.as_ref().filter(|p| p.is_active(now));
        Self {
            premium_until: plan.map(|p| p.premium_until),
            // A tier outside the id alphabet (hand-edited) is left out: the
            // edge then asks the store, which compares it as written.
            tier: plan.and_then(|p| Tier::parse(&p.tier).ok()),
            max_devices: plan.and_then(|p| p.max_devices),
            grants: active
                .iter()
                .take(max_grants)
                .map(|g| (g.video.clone(), g.expires_at()))
                .collect(),
            complete: active.len() <= max_grants,
        }
    }

    pub fn encode(&self) -> String {
        let mut out = String::from("v=1");
        if let Some(until) = self.premium_until {
            out.push_str(&format!(";p={until}"));
        }
        if let Some(tier) = &self.tier {
            out.push_str(&format!(";t={tier}"));
        }
        if let Some(limit) = self.max_devices {
            out.push_str(&format!(";d={limit}"));
        }
        let grants: Vec<String> = self
            .grants
            .iter()
            .map(|(video, until)| match until {
                Some(until) => format!("{video}@{until}"),
                None => video.to_string(),
            })
            .collect();
        out.push_str(&format!(
            ";g={};c={}",
            grants.join(","),
            u8::from(self.complete)
        ));
        out
    }

    pub fn decode(text: &str) -> Result<Self, ClaimsError> {
        let mut fields = text.split(';');
        if fields.next() != Some("v=1") {
            return Err(ClaimsError::UnknownVersion);
        }
        let mut claims = Self::default();
        let (mut saw_grants, mut saw_complete) = (false, false);
        for field in fields {
            match field.split_once('=') {
                Some(("p", value)) if claims.premium_until.is_none() => {
                    claims.premium_until = Some(epoch(value).ok_or(ClaimsError::BadField("p"))?);
                }
                Some(("t", value)) if claims.tier.is_none() => {
                    claims.tier = Some(Tier::parse(value).map_err(|_| ClaimsError::BadField("t"))?);
                }
                Some(("d", value)) if claims.max_devices.is_none() => {
                    claims.max_devices = Some(
                        value
                            .parse::<u16>()
                            .ok()
                            .and_then(|n| DeviceLimit::new(n).ok())
                            .ok_or(ClaimsError::BadField("d"))?,
                    );
                }
                Some(("g", value)) if !saw_grants => {
                    saw_grants = true;
                    claims.grants = value
                        .split(',')
                        .filter(|g| !g.is_empty())
                        .map(grant)
                        .collect::<Option<_>>()
                        .ok_or(ClaimsError::BadField("g"))?;
                }
                Some(("c", value)) if !saw_complete => {
                    saw_complete = true;
                    claims.complete = match value {
                        "1" => true,
                        "0" => false,
                        _ => return Err(ClaimsError::BadField("c")),
                    };
                }
                _ => return Err(ClaimsError::BadField("unknown or repeated")),
            }
        }
        if !saw_grants || !saw_complete {
            return Err(ClaimsError::BadField("g/c"));
        }
        Ok(claims)
    }
}

fn epoch(value: &str) -> Option<EpochSeconds> {
    value.parse().ok().map(EpochSeconds::new)
}

fn grant(text: &str) -> Option<(VideoId, Option<EpochSeconds>)> {
    match text.split_once('@') {
        Some((video, until)) => Some((VideoId::parse(video).ok()?, Some(epoch(until)?))),
        None => Some((VideoId::parse(text).ok()?, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entitlement::{GrantSource, Plan};
    use proptest::prelude::*;

    #[test]
    fn the_wire_form_is_compact_and_stable() {
        let claims = TokenEntitlements {
            premium_until: Some(EpochSeconds::new(1767290400)),
            tier: Some(Tier::parse("premium").unwrap()),
            max_devices: None,
            grants: vec![
                (VideoId::parse("demo").unwrap(), None),
                (
                    VideoId::parse("intro").unwrap(),
                    Some(EpochSeconds::new(99)),
                ),
            ],
            complete: true,
        };
        assert_eq!(
            claims.encode(),
            "v=1;p=1767290400;t=premium;g=demo,intro@99;c=1"
        );
        assert_eq!(TokenEntitlements::decode(&claims.encode()).unwrap(), claims);
        let limited = TokenEntitlements {
            max_devices: Some(DeviceLimit::new(2).unwrap()),
            ..claims
        };
        assert_eq!(
            limited.encode(),
            "v=1;p=1767290400;t=premium;d=2;g=demo,intro@99;c=1"
        );
        assert_eq!(
            TokenEntitlements::decode(&limited.encode()).unwrap(),
            limited
        );
    }

    #[test]
    fn hostile_claims_are_refused_not_widened() {
        for bad in [
            "v=2;g=;c=1",
            "v=1;g=*;c=1",
            "v=1;g=a/b;c=1",
            "v=1;g=a;c=yes",
            "v=1;t=a#b;g=;c=1",
            "v=1;t=a;t=b;g=;c=1",
            "v=1;g=a",
            "v=1;g=;g=x;c=1",
            "v=1;d=0;g=;c=1",
            "v=1;d=-1;g=;c=1",
            "v=1;d=2;d=3;g=;c=1",
        ] {
            assert!(TokenEntitlements::decode(bad).is_err(), "{bad}");
        }
    }

    fn grant(id: &str, at: u64, source: GrantSource) -> Grant {
        Grant {
            video: VideoId::parse(id).unwrap(),
            source,
            granted_at: EpochSeconds::new(at),
            purchase_id: None,
            revoked_at: None,
        }
    }

    fn rental_until(end: u64) -> GrantSource {
        GrantSource::Rental {
            expires_at: EpochSeconds::new(end),
        }
    }

    #[test]
    fn a_token_lists_active_grants_newest_first() {
        let all = UserEntitlements {
            plan: None,
            grants: vec![
                grant("a", 10, GrantSource::Admin),
                grant("c", 30, GrantSource::Purchase),
                grant("b", 20, rental_until(2000)),
            ],
        };
        let claims = TokenEntitlements::select(&all, 10, EpochSeconds::new(1000));
        assert_eq!(claims.encode(), "v=1;g=c,b@2000,a;c=1");
    }

    #[test]
    fn ended_rentals_revoked_grants_and_ended_plans_stay_out_of_a_token() {
        let mut revoked = grant("r", 40, GrantSource::Purchase);
        revoked.revoked_at = Some(EpochSeconds::new(50));
        let all = UserEntitlements {
            plan: Some(Plan {
                tier: "premium".into(),
                premium_until: EpochSeconds::new(1000),
                max_devices: Some(DeviceLimit::new(2).unwrap()),
            }),
            grants: vec![revoked, grant("ended", 15, rental_until(1000))],
        };
        let claims = TokenEntitlements::select(&all, 10, EpochSeconds::new(1000));
        assert_eq!(claims.encode(), "v=1;g=;c=1");
    }

    #[test]
    fn grants_beyond_the_limit_mark_the_token_incomplete() {
        let all = UserEntitlements {
            plan: None,
            grants: vec![
                grant("c", 30, GrantSource::Purchase),
                grant("b", 20, GrantSource::Purchase),
                grant("a", 10, GrantSource::Purchase),
            ],
        };
        let now = EpochSeconds::new(1000);
        assert_eq!(
            TokenEntitlements::select(&all, 2, now).encode(),
            "v=1;g=c,b;c=0"
        );
        assert!(TokenEntitlements::select(&all, 3, now).complete);
    }

    #[test]
    fn an_active_plan_goes_into_the_token() {
        let all = UserEntitlements {
            plan: Some(Plan {
                tier: "premium".into(),
                premium_until: EpochSeconds::new(5000),
                max_devices: Some(DeviceLimit::new(2).unwrap()),
            }),
            grants: vec![],
        };
        let claims = TokenEntitlements::select(&all, 10, EpochSeconds::new(1000));
        assert_eq!(claims.encode(), "v=1;p=5000;t=premium;d=2;g=;c=1");
    }

    proptest! {
        #[test]
        fn any_claims_round_trip(premium in prop::option::of(any::<u64>()),
                                 grants in prop::collection::vec(("[A-Za-z0-9][A-Za-z0-9_-]{0,20}", prop::option::of(any::<u64>())), 0..8),
                                 devices in prop::option::of(1u16..=20),
                                 tier in prop::option::of("[A-Za-z0-9][A-Za-z0-9_-]{0,20}"),
                                 complete: bool) {
            let claims = TokenEntitlements {
                premium_until: premium.map(EpochSeconds::new),
                tier: tier.map(|t| Tier::parse(&t).unwrap()),
                max_devices: devices.and_then(|n| DeviceLimit::new(n).ok()),
                grants: grants.iter().map(|(v, u)| (VideoId::parse(v).unwrap(), u.map(EpochSeconds::new))).collect(),
                complete,
            };
            prop_assert_eq!(TokenEntitlements::decode(&claims.encode()).unwrap(), claims);
        }
    }
}
