//! The single-table schema of ARCHITECTURE §7: every key, every item kind
//! and every conversion between items and the domain. Every read is
//! validated: an item edited by hand in the console with a bad id or a
//! non-numeric time is reported, never trusted.

use serde::Serialize;

use super::item::{AttrValue, Item};
use crate::devices::DeviceLimit;
use crate::entitlement::{
    Grant, GrantSource, PaymentEvent, Plan, Snapshot, Title, TitleError, UserEntitlements,
};
use crate::ids::{EventId, PaymentIntentId, Tier, UserSub, VideoId};
use crate::time::EpochSeconds;

pub const ATTR_PK: &str = "PK";
pub const ATTR_SK: &str = "SK";
/// DynamoDB TTL attribute (epoch seconds). Rentals and payment events set it.
pub const ATTR_TTL: &str = "ttl";
/// Optimistic-concurrency counter on grant and plan items.
pub const ATTR_VERSION: &str = "version";

const SK_PLAN: &str = "PLAN";
const SK_EVENT: &str = "EVENT";
const SK_VIDEO_PREFIX: &str = "VIDEO#";
const SK_PAYMENT: &str = "PAYMENT";
/// The catalogue's one partition: every title item, so `GET /api/titles`
/// is one query. Its readers are few (CloudFront caches the list; the
/// edge caches each title), so the partition never runs hot.
const PK_CATALOGUE: &str = "CATALOGUE";
const SK_TITLE_PREFIX: &str = "TITLE#";
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
    key(user_pk(user), format!("{SK_VIDEO_PREFIX}{video}"))
}

pub fn plan_key(user: &UserSub) -> Item {
    key(user_pk(user), SK_PLAN.to_owned())
}

/// A catalogue title's item: `CATALOGUE` / `TITLE#<id>`.
pub fn title_key(video: &VideoId) -> Item {
    key(PK_CATALOGUE.to_owned(), format!("{SK_TITLE_PREFIX}{video}"))
}

/// The partition holding the catalogue: query `ATTR_PK = value`.
pub fn catalogue_partition() -> (&'static str, AttrValue) {
    (ATTR_PK, s(PK_CATALOGUE))
}

/// A title as an item: `name`, `free` (BOOL), `tiers` (a string set,
/// absent when empty), prices, `currency` and the window as numbers.
pub fn title_item(title: &Title) -> Item {
    let mut item = title_key(&title.id);
    item.insert("name".into(), s(title.name.clone()));
    item.insert("free".into(), AttrValue::Bool(title.free));
    if !title.tiers.is_empty() {
        item.insert(
            "tiers".into(),
            AttrValue::Ss(title.tiers.iter().map(|t| t.to_string()).collect()),
        );
    }
    let numbers = [
        ("price", title.price),
        ("rental_price", title.rental_price),
        (
            "available_from",
            title.available_from.map(EpochSeconds::get),
        ),
        (
            "available_until",
            title.available_until.map(EpochSeconds::get),
        ),
    ];
    for (attribute, value) in numbers {
        if let Some(value) = value {
            item.insert(attribute.into(), n(value));
        }
    }
    if let Some(currency) = &title.currency {
        item.insert("currency".into(), s(currency.clone()));
    }
    item
}

/// The attribute a broken catalogue rule is about, for the decoder's error.
fn title_attribute(error: TitleError) -> SchemaError {
    let attribute = match error {
        TitleError::InvalidName => "name",
        TitleError::InvalidTier => "tiers",
        TitleError::InvalidPrice => "price",
        TitleError::InvalidCurrency => "currency",
        TitleError::FreeTitlePriced => "free",
        TitleError::InvalidWindow => "available_until",
    };
    bad(attribute, error.reason())
}

/// A title from its item, held to every catalogue rule (`Title::check`):
/// a hand-edited item that breaks one is reported by attribute.
pub fn title_from_item(item: &Item) -> Result<Title, SchemaError> {
    if get_s(item, ATTR_PK)? != PK_CATALOGUE {
        return Err(bad(ATTR_PK, "not CATALOGUE"));
    }
    let id = get_s(item, ATTR_SK)?
        .strip_prefix(SK_TITLE_PREFIX)
        .and_then(|id| VideoId::parse(id).ok())
        .ok_or(bad(ATTR_SK, "not TITLE#<valid id>"))?;
    let free = match item.get("free") {
        None => false,
        Some(AttrValue::Bool(free)) => *free,
        Some(_) => return Err(bad("free", "must be a boolean")),
    };
    let tiers = match item.get("tiers") {
        None => Vec::new(),
        Some(AttrValue::Ss(tiers)) => tiers
            .iter()
            .map(|tier| Tier::parse(tier))
            .collect::<Result<_, _>>()
            .map_err(|_| bad("tiers", "invalid tier"))?,
        Some(_) => return Err(bad("tiers", "must be a string set")),
    };
    let currency = match item.get("currency") {
        None => None,
        Some(_) => Some(get_s(item, "currency")?.to_owned()),
    };
    Title {
        id,
        name: get_s(item, "name")?.to_owned(),
        free,
        tiers,
        price: get_n(item, "price")?,
        rental_price: get_n(item, "rental_price")?,
        currency,
        available_from: get_n(item, "available_from")?.map(EpochSeconds::new),
        available_until: get_n(item, "available_until")?.map(EpochSeconds::new),
    }
    .check()
    .map_err(title_attribute)
}

/// The catalogue from the items of its partition, in id order.
pub fn titles_from_items<'a>(
    items: impl IntoIterator<Item = &'a Item>,
) -> Result<Vec<Title>, SchemaError> {
    let mut titles = items
        .into_iter()
        .map(title_from_item)
        .collect::<Result<Vec<_>, _>>()?;
    titles.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(titles)
}

pub fn event_key(event: &EventId) -> Item {
    key(format!("EVENT#{event}"), SK_EVENT.to_owned())
}

/// The refund index: the item naming what one payment bought, keyed by the
/// provider's payment id (Stripe refunds name the payment, not the buyer).
pub fn payment_key(payment: &PaymentIntentId) -> Item {
    key(format!("PI#{payment}"), SK_PAYMENT.to_owned())
}

/// Whom a payment entitled to which title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRecord {
    pub user: UserSub,
    pub video: VideoId,
}

/// Written with the grant it paid for and never changed: no version, no
/// TTL (a refund may come months later, and the item is a few bytes).
pub fn payment_item(payment: &PaymentIntentId, record: &PaymentRecord, at: EpochSeconds) -> Item {
    let mut item = payment_key(payment);
    item.insert("user_sub".into(), s(record.user.as_str()));
    item.insert("video_id".into(), s(record.video.as_str()));
    item.insert("paid_at".into(), n(at.get()));
    item
}

pub fn payment_record_from_item(item: &Item) -> Result<PaymentRecord, SchemaError> {
    Ok(PaymentRecord {
        user: UserSub::parse(get_s(item, "user_sub")?)
            .map_err(|_| bad("user_sub", "invalid user sub"))?,
        video: VideoId::parse(get_s(item, "video_id")?)
            .map_err(|_| bad("video_id", "invalid video id"))?,
    })
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
    if let Some(limit) = plan.max_devices {
        item.insert("max_devices".into(), n(limit.get().into()));
    }
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

/// The `version` attribute, `None` on items written without one (by hand,
/// by a backfill or by an older release).
pub(super) fn version_attribute(item: &Item) -> Result<Option<u64>, SchemaError> {
    get_n(item, ATTR_VERSION)
}

/// The kinds of item the table holds, told apart by sort key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Plan,
    Grant,
    Event,
    Payment,
    Title,
}

fn kind(item: &Item) -> Result<Kind, SchemaError> {
    match get_s(item, ATTR_SK)? {
        SK_PLAN => Ok(Kind::Plan),
        SK_EVENT => Ok(Kind::Event),
        SK_PAYMENT => Ok(Kind::Payment),
        sk if sk.starts_with(SK_VIDEO_PREFIX) => Ok(Kind::Grant),
        sk if sk.starts_with(SK_TITLE_PREFIX) => Ok(Kind::Title),
        _ => Err(bad(
            ATTR_SK,
            "not PLAN, VIDEO#<id>, TITLE#<id>, EVENT or PAYMENT",
        )),
    }
}

/// The items one entitlement decision reads: the (user, title) grant, the
/// user's plan and the title's catalogue item. On the wire (the edge's fetch request to its host) it
/// is the exact key list for `BatchGetItem`, so no host spells a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "Vec<Item>")]
pub struct SnapshotKeys {
    pub user: UserSub,
    pub video: VideoId,
}

impl SnapshotKeys {
    pub fn new(user: UserSub, video: VideoId) -> Self {
        Self { user, video }
    }

    pub fn keys(&self) -> Vec<Item> {
        vec![
            grant_key(&self.user, &self.video),
            plan_key(&self.user),
            title_key(&self.video),
        ]
    }
}

impl From<SnapshotKeys> for Vec<Item> {
    fn from(keys: SnapshotKeys) -> Self {
        keys.keys()
    }
}

/// The snapshot from the items a read of [`SnapshotKeys`] returned (absent
/// items are simply missing). An item of another kind, or a second plan,
/// grant or title, means the host read the wrong keys: an error, never a guess.
pub fn snapshot_from_items<'a>(
    items: impl IntoIterator<Item = &'a Item>,
) -> Result<Snapshot, SchemaError> {
    let mut snapshot = Snapshot::default();
    for item in items {
        match kind(item)? {
            Kind::Plan if snapshot.plan.is_none() => snapshot.plan = Some(plan_from_item(item)?),
            Kind::Grant if snapshot.grant.is_none() => {
                snapshot.grant = Some(grant_from_item(item)?)
            }
            Kind::Title if snapshot.title.is_none() => {
                snapshot.title = Some(title_from_item(item)?)
            }
            _ => return Err(bad(ATTR_SK, "not one of the keys a snapshot reads")),
        }
    }
    Ok(snapshot)
}

/// The partition holding everything one user holds: query `ATTR_PK = value`.
pub fn holdings_partition(user: &UserSub) -> (&'static str, AttrValue) {
    (ATTR_PK, s(user_pk(user)))
}

/// A user's holdings from the items of their partition, grants newest first.
pub fn holdings_from_items<'a>(
    items: impl IntoIterator<Item = &'a Item>,
) -> Result<UserEntitlements, SchemaError> {
    let (mut plan, mut grants) = (None, Vec::new());
    for item in items {
        match kind(item)? {
            Kind::Plan => plan = Some(plan_from_item(item)?),
            Kind::Grant => grants.push(grant_from_item(item)?),
            Kind::Event | Kind::Payment | Kind::Title => {
                return Err(bad(
                    ATTR_PK,
                    "a payment or title item in a user's partition",
                ));
            }
        }
    }
    Ok(UserEntitlements::new(plan, grants))
}

pub fn grant_from_item(item: &Item) -> Result<Grant, SchemaError> {
    let video = get_s(item, ATTR_SK)?
        .strip_prefix(SK_VIDEO_PREFIX)
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
        max_devices: get_n(item, "max_devices")?
            .map(|n| {
                u16::try_from(n)
                    .ok()
                    .and_then(|n| DeviceLimit::new(n).ok())
                    .ok_or(bad("max_devices", "not a device limit (1-20)"))
            })
            .transpose()?,
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
        assert_eq!(version_attribute(&item), Ok(Some(3)));
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

    fn plan() -> Plan {
        Plan {
            tier: "premium".into(),
            premium_until: EpochSeconds::new(99),
            max_devices: None,
        }
    }

    fn purchase(video: &str, at: u64) -> Grant {
        Grant {
            video: VideoId::parse(video).unwrap(),
            source: GrantSource::Purchase,
            granted_at: EpochSeconds::new(at),
            purchase_id: None,
            revoked_at: None,
        }
    }

    #[test]
    fn a_decision_reads_the_title_s_grant_and_the_plan() {
        let keys = SnapshotKeys::new(user(), VideoId::parse("demo").unwrap());
        assert_eq!(
            serde_json::to_value(&keys).unwrap(),
            serde_json::json!([
                {"PK": {"S": "USER#u-1"}, "SK": {"S": "VIDEO#demo"}},
                {"PK": {"S": "USER#u-1"}, "SK": {"S": "PLAN"}},
                {"PK": {"S": "CATALOGUE"}, "SK": {"S": "TITLE#demo"}},
            ])
        );
    }

    #[test]
    fn a_snapshot_is_built_from_the_items_read_in_any_order() {
        let items = [
            plan_item(&user(), &plan(), 1),
            grant_item(&user(), &purchase("demo", 5), 1),
        ];
        let snapshot = snapshot_from_items(&items).unwrap();
        assert_eq!(snapshot.plan, Some(plan()));
        assert_eq!(snapshot.grant, Some(purchase("demo", 5)));
        assert_eq!(snapshot_from_items(&[]).unwrap(), Snapshot::default());
    }

    #[test]
    fn a_snapshot_refuses_items_no_snapshot_key_names() {
        let event = event_item(
            &PaymentEvent::parse(br#"{"event_id":"e1","type":"plan.canceled","user_sub":"u-1"}"#)
                .unwrap(),
            EpochSeconds::new(1),
        );
        assert_eq!(
            snapshot_from_items(&[event]).unwrap_err().attribute,
            ATTR_SK
        );
        let two_grants = [
            grant_item(&user(), &purchase("a", 1), 1),
            grant_item(&user(), &purchase("b", 1), 1),
        ];
        assert!(snapshot_from_items(&two_grants).is_err());
    }

    #[test]
    fn holdings_list_the_plan_and_grants_newest_first() {
        let items = [
            grant_item(&user(), &purchase("a", 1), 1),
            plan_item(&user(), &plan(), 1),
            grant_item(&user(), &purchase("c", 3), 1),
            grant_item(&user(), &purchase("b", 2), 1),
        ];
        let holdings = holdings_from_items(&items).unwrap();
        assert_eq!(holdings.plan, Some(plan()));
        let order: Vec<&str> = holdings.grants.iter().map(|g| g.video.as_str()).collect();
        assert_eq!(order, ["c", "b", "a"]);
    }

    #[test]
    fn a_payment_record_round_trips_outside_any_user_partition() {
        let payment = PaymentIntentId::parse("pi_3MtwBwLkdIwHu7ix28a3tqPa").unwrap();
        let record = PaymentRecord {
            user: user(),
            video: VideoId::parse("demo").unwrap(),
        };
        let item = payment_item(&payment, &record, EpochSeconds::new(5));
        assert_eq!(
            item[ATTR_PK],
            AttrValue::S("PI#pi_3MtwBwLkdIwHu7ix28a3tqPa".into())
        );
        assert_eq!(payment_record_from_item(&item).unwrap(), record);
        assert!(holdings_from_items(std::slice::from_ref(&item)).is_err());
        let mut bad_item = item;
        bad_item.insert("video_id".into(), AttrValue::S("a/b".into()));
        assert_eq!(
            payment_record_from_item(&bad_item).unwrap_err().attribute,
            "video_id"
        );
    }

    #[test]
    fn a_plan_round_trips() {
        let plan = Plan {
            tier: "premium".into(),
            premium_until: EpochSeconds::new(99),
            max_devices: None,
        };
        assert_eq!(plan_from_item(&plan_item(&user(), &plan, 1)).unwrap(), plan);
        let limited = Plan {
            max_devices: Some(DeviceLimit::new(2).unwrap()),
            ..plan
        };
        let mut item = plan_item(&user(), &limited, 1);
        assert_eq!(item["max_devices"], AttrValue::N("2".into()));
        assert_eq!(plan_from_item(&item).unwrap(), limited);
        item.insert("max_devices".into(), AttrValue::N("0".into()));
        assert_eq!(plan_from_item(&item).unwrap_err().attribute, "max_devices");
    }

    fn members_title() -> Title {
        Title {
            id: VideoId::parse("members").unwrap(),
            name: "Members only".into(),
            free: false,
            tiers: vec![Tier::parse("premium").unwrap()],
            price: Some(499),
            rental_price: None,
            currency: Some("usd".into()),
            available_from: Some(EpochSeconds::new(10)),
            available_until: Some(EpochSeconds::new(20)),
        }
    }

    #[test]
    fn a_title_round_trips_in_the_catalogue_partition() {
        let title = members_title();
        let item = title_item(&title);
        assert_eq!(
            serde_json::to_value(&item).unwrap(),
            serde_json::json!({
                "PK": {"S": "CATALOGUE"}, "SK": {"S": "TITLE#members"},
                "name": {"S": "Members only"}, "free": {"BOOL": false},
                "tiers": {"SS": ["premium"]}, "price": {"N": "499"},
                "currency": {"S": "usd"},
                "available_from": {"N": "10"}, "available_until": {"N": "20"},
            })
        );
        assert_eq!(title_from_item(&item).unwrap(), title);
        let free = Title {
            id: VideoId::parse("intro").unwrap(),
            name: "Intro".into(),
            free: true,
            tiers: vec![],
            price: None,
            rental_price: None,
            currency: None,
            available_from: None,
            available_until: None,
        };
        let item = title_item(&free);
        assert!(!item.contains_key("tiers"));
        assert_eq!(title_from_item(&item).unwrap(), free);
        assert_eq!(
            titles_from_items(&[title_item(&members_title()), item]).unwrap()[0].id,
            free.id
        );
    }

    #[test]
    fn a_snapshot_carries_the_title_and_holdings_refuse_one() {
        let items = [title_item(&members_title()), plan_item(&user(), &plan(), 1)];
        let snapshot = snapshot_from_items(&items).unwrap();
        assert_eq!(snapshot.title, Some(members_title()));
        assert!(holdings_from_items(&items).is_err());
        let two = [title_item(&members_title()), title_item(&members_title())];
        assert!(snapshot_from_items(&two).is_err());
    }

    #[test]
    fn a_hand_edited_title_is_reported_by_attribute() {
        let cases: [(&str, AttrValue, &str); 8] = [
            ("free", AttrValue::S("yes".into()), "free"),
            ("tiers", AttrValue::S("premium".into()), "tiers"),
            ("tiers", AttrValue::Ss(vec!["a b".into()]), "tiers"),
            ("price", AttrValue::N("-1".into()), "price"),
            ("price", AttrValue::N("0".into()), "price"),
            ("name", AttrValue::N("1".into()), "name"),
            ("currency", AttrValue::S("US$".into()), "currency"),
            (
                "available_from",
                AttrValue::N("20".into()),
                "available_until",
            ),
        ];
        for (attribute, value, blamed) in cases {
            let mut item = title_item(&members_title());
            item.insert(attribute.into(), value);
            assert_eq!(
                title_from_item(&item).unwrap_err().attribute,
                blamed,
                "{attribute}"
            );
        }
        let mut item = title_item(&members_title());
        item.insert(ATTR_SK.into(), AttrValue::S("TITLE#a/b".into()));
        assert_eq!(title_from_item(&item).unwrap_err().attribute, ATTR_SK);
        let mut item = title_item(&members_title());
        item.insert(ATTR_PK.into(), AttrValue::S("USER#u-1".into()));
        assert_eq!(title_from_item(&item).unwrap_err().attribute, ATTR_PK);
        let mut item = title_item(&members_title());
        item.insert("free".into(), AttrValue::Bool(true));
        assert_eq!(title_from_item(&item).unwrap_err().attribute, "free");
        let mut item = title_item(&members_title());
        item.remove("name");
        assert_eq!(title_from_item(&item).unwrap_err().attribute, "name");
    }
}
