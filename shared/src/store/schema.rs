//! Items ↔ domain. Every read is validated: an item edited by hand in the
//! console with a bad id or a non-numeric time is reported, never trusted.

use super::item::{AttrValue, Item};
use crate::entitlement::{Grant, GrantSource, PaymentEvent, Plan};
use crate::ids::{EventId, UserSub, VideoId};
use crate::time::EpochSeconds;

pub const ATTR_PK: &str = "PK";
pub const ATTR_SK: &str = "SK";
/// DynamoDB TTL attribute (epoch seconds). Rentals and payment events set it.
pub const ATTR_TTL: &str = "ttl";
/// Optimistic-concurrency counter on grant and plan items.
pub const ATTR_VERSION: &str = "version";

const SK_PLAN: &str = "PLAN";
const SK_EVENT: &str = "EVENT";
/// Payment events are kept long enough to absorb any provider's retries.
const EVENT_RETENTION_SECS: u64 = 30 * 24 * 3600;
/// Rental items outlive their end by a week so support can still see them.
const RENTAL_RETENTION_SECS: u64 = 7 * 24 * 3600;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("item attribute {attribute}: {problem}")]
pub struct SchemaError {
    pub attribute: &'static str,
    pub problem: &'static str,
}

fn bad(attribute: &'static str, problem: &'static str) -> SchemaError {
    SchemaError { attribute, problem }
}

pub fn user_pk(user: &UserSub) -> String {
    format!("USER#{user}")
}

fn s(value: impl Into<String>) -> AttrValue {
    AttrValue::S(value.into())
}

fn n(value: u64) -> AttrValue {
    AttrValue::N(value.to_string())
}

fn key(pk: String, sk: String) -> Item {
    Item::from([(ATTR_PK.to_owned(), s(pk)), (ATTR_SK.to_owned(), s(sk))])
}

pub fn grant_key(user: &UserSub, video: &VideoId) -> Item {
    key(user_pk(user), format!("VIDEO#{video}"))
}

pub fn plan_key(user: &UserSub) -> Item {
    key(user_pk(user), SK_PLAN.to_owned())
}

pub fn event_key(event: &EventId) -> Item {
    key(format!("EVENT#{event}"), SK_EVENT.to_owned())
}

pub fn grant_item(user: &UserSub, grant: &Grant, version: u64) -> Item {
    let mut item = grant_key(user, &grant.video);
    item.insert("source".into(), s(grant.source.name()));
    item.insert("granted_at".into(), n(grant.granted_at.get()));
    item.insert(ATTR_VERSION.into(), n(version));
    if let Some(end) = grant.expires_at() {
        item.insert("expires_at".into(), n(end.get()));
        item.insert(ATTR_TTL.into(), n(end.plus(RENTAL_RETENTION_SECS).get()));
    }
    if let Some(id) = &grant.purchase_id {
        item.insert("purchase_id".into(), s(id.as_str()));
    }
    if let Some(at) = grant.revoked_at {
        item.insert("revoked_at".into(), n(at.get()));
    }
    item
}

pub fn plan_item(user: &UserSub, plan: &Plan, version: u64) -> Item {
    let mut item = plan_key(user);
    item.insert("tier".into(), s(plan.tier.clone()));
    item.insert("premium_until".into(), n(plan.premium_until.get()));
    item.insert(ATTR_VERSION.into(), n(version));
    item
}

pub fn event_item(event: &PaymentEvent, received_at: EpochSeconds) -> Item {
    let mut item = event_key(&event.event_id);
    item.insert("type".into(), s(event.kind.type_name()));
    item.insert("user_sub".into(), s(event.user.as_str()));
    item.insert("received_at".into(), n(received_at.get()));
    item.insert(
        ATTR_TTL.into(),
        n(received_at.plus(EVENT_RETENTION_SECS).get()),
    );
    item
}

fn get_s<'a>(item: &'a Item, attribute: &'static str) -> Result<&'a str, SchemaError> {
    match item.get(attribute) {
        Some(AttrValue::S(value)) => Ok(value),
        Some(_) => Err(bad(attribute, "must be a string")),
        None => Err(bad(attribute, "missing")),
    }
}

fn get_n(item: &Item, attribute: &'static str) -> Result<Option<u64>, SchemaError> {
    match item.get(attribute) {
        None => Ok(None),
        Some(AttrValue::N(value)) => value
            .parse()
            .map(Some)
            .map_err(|_| bad(attribute, "not an epoch number")),
        Some(_) => Err(bad(attribute, "must be a number")),
    }
}

/// The item's version, 0 when absent (items written before versioning).
pub fn version_of(item: &Item) -> Result<u64, SchemaError> {
    Ok(get_n(item, ATTR_VERSION)?.unwrap_or(0))
}

pub fn grant_from_item(item: &Item) -> Result<Grant, SchemaError> {
    let video = get_s(item, ATTR_SK)?
        .strip_prefix("VIDEO#")
        .and_then(|id| VideoId::parse(id).ok())
        .ok_or(bad(ATTR_SK, "not VIDEO#<valid id>"))?;
    let source = match get_s(item, "source")? {
        "purchase" => GrantSource::Purchase,
        "admin" => GrantSource::Admin,
        "rental" => GrantSource::Rental {
            expires_at: EpochSeconds::new(
                get_n(item, "expires_at")?.ok_or(bad("expires_at", "missing on a rental"))?,
            ),
        },
        _ => return Err(bad("source", "not purchase, rental or admin")),
    };
    let purchase_id = match item.get("purchase_id") {
        None => None,
        Some(_) => Some(
            EventId::parse(get_s(item, "purchase_id")?)
                .map_err(|_| bad("purchase_id", "invalid event id"))?,
        ),
    };
    Ok(Grant {
        video,
        source,
        granted_at: EpochSeconds::new(
            get_n(item, "granted_at")?.ok_or(bad("granted_at", "missing"))?,
        ),
        purchase_id,
        revoked_at: get_n(item, "revoked_at")?.map(EpochSeconds::new),
    })
}

pub fn plan_from_item(item: &Item) -> Result<Plan, SchemaError> {
    Ok(Plan {
        tier: get_s(item, "tier")?.to_owned(),
        premium_until: EpochSeconds::new(
            get_n(item, "premium_until")?.ok_or(bad("premium_until", "missing"))?,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> UserSub {
        UserSub::parse("u-1").unwrap()
    }

    #[test]
    fn a_rental_round_trips_with_its_ttl() {
        let grant = Grant {
            video: VideoId::parse("demo").unwrap(),
            source: GrantSource::Rental {
                expires_at: EpochSeconds::new(1000),
            },
            granted_at: EpochSeconds::new(10),
            purchase_id: Some(EventId::parse("evt_1").unwrap()),
            revoked_at: None,
        };
        let item = grant_item(&user(), &grant, 3);
        assert_eq!(item["PK"], AttrValue::S("USER#u-1".into()));
        assert_eq!(item["SK"], AttrValue::S("VIDEO#demo".into()));
        assert_eq!(
            item["ttl"],
            AttrValue::N((1000 + RENTAL_RETENTION_SECS).to_string())
        );
        assert_eq!(version_of(&item), Ok(3));
        assert_eq!(grant_from_item(&item).unwrap(), grant);
    }

    #[test]
    fn hand_edited_items_are_reported_not_trusted() {
        let mut item = grant_key(&user(), &VideoId::parse("demo").unwrap());
        item.insert("source".into(), AttrValue::S("rental".into()));
        item.insert("granted_at".into(), AttrValue::N("1".into()));
        assert_eq!(grant_from_item(&item).unwrap_err().attribute, "expires_at");
        item.insert(ATTR_SK.into(), AttrValue::S("VIDEO#*".into()));
        assert_eq!(grant_from_item(&item).unwrap_err().attribute, ATTR_SK);
    }

    #[test]
    fn a_plan_round_trips() {
        let plan = Plan {
            tier: "premium".into(),
            premium_until: EpochSeconds::new(99),
        };
        assert_eq!(plan_from_item(&plan_item(&user(), &plan, 1)).unwrap(), plan);
    }
}
