//! The entitlement of a verified viewer to a title: claims first, then a
//! cached store answer, then the store itself (ARCHITECTURE §6).

use reelgate_shared::crypto::{Crypto, KeyRing};
use reelgate_shared::entitlement::{self, ClaimsVerdict, Entitled, TokenEntitlements};
use reelgate_shared::jwt::Claims;
use reelgate_shared::{EpochSeconds, VideoId};

use crate::edge::Edge;
use crate::log::{Decision, EntitlementSource};
use crate::region::nearest_replica;
use crate::step::{Fetch, Fetched};

/// An entitlement and until when that answer cannot change: the end of the
/// grant itself, or of the cache entry it came from (`None`: the token's life).
pub(crate) struct Settled {
    pub(crate) entitled: Entitled,
    pub(crate) until: Option<EpochSeconds>,
}

impl<C: Crypto + KeyRing> Edge<C> {
    /// `Ok(Some)`: entitled; `Ok(None)`: not; `Err(Some(fetch))`: ask the
    /// store; `Err(None)`: the store failed and nothing is cached (fail closed).
    pub(crate) fn entitlement(
        &mut self,
        claims: &Claims,
        video: &VideoId,
        now: EpochSeconds,
        fetched: &Fetched,
        decision: &mut Decision,
    ) -> Result<Option<Settled>, Option<Fetch>> {
        let premium = self
            .config
            .premium_groups
            .iter()
            .any(|g| claims.in_group(g));
        let token_claims = claims
            .entitlements
            .as_deref()
            .and_then(|text| TokenEntitlements::decode(text).ok());
        let verdict = entitlement::from_claims(
            premium,
            token_claims.as_ref(),
            video,
            claims.issued_at,
            self.config.cache.claims_trusted_seconds,
            now,
        );
        match verdict {
            ClaimsVerdict::Entitled(entitled) => {
                decision.entitlement_source = Some(EntitlementSource::Claims);
                return Ok(Some(Settled {
                    entitled,
                    until: entitled.until,
                }));
            }
            ClaimsVerdict::NotEntitled => {
                decision.entitlement_source = Some(EntitlementSource::Claims);
                return Ok(None);
            }
            ClaimsVerdict::AskStore => {}
        }
        let key = (claims.sub.clone(), video.clone());
        if let Some((cached, cached_until)) = self.entitlements.get_with_expiry(&key, now) {
            decision.entitlement_source = Some(EntitlementSource::Cache);
            return Ok(cached
                .filter(|e| e.until.is_none_or(|until| now < until))
                .map(|entitled| Settled {
                    entitled,
                    until: Some(cached_until),
                }));
        }
        match &fetched.entitlement {
            None => Err(Some(Fetch::Entitlement {
                table: self.config.table.name.clone(),
                region: nearest_replica(&self.region, &self.config.table.replica_regions)
                    .map(str::to_owned),
                user: claims.sub.clone(),
                video: video.clone(),
            })),
            Some(Err(_)) => {
                decision.entitlement_source = Some(EntitlementSource::StoreError);
                Err(None)
            }
            Some(Ok(snapshot)) => {
                decision.entitlement_source = Some(EntitlementSource::Store);
                let entitled =
                    entitlement::from_store(snapshot.plan.as_ref(), snapshot.grant.as_ref(), now);
                let ttl = match entitled {
                    Some(_) => self.config.cache.positive_seconds,
                    None => self.config.cache.negative_seconds,
                };
                let mut until = now.plus(ttl);
                if let Some(end) = entitled.and_then(|e| e.until) {
                    until = until.min(end);
                }
                self.entitlements.insert(key, entitled, until, now);
                Ok(entitled.map(|entitled| Settled {
                    entitled,
                    until: Some(until),
                }))
            }
        }
    }
}
