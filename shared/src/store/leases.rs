//! Device lease items (ARCHITECTURE §12 "Devices"; the rule is
//! `crate::devices`): their keys, their shape, the one read of a viewer's
//! slots and the conditional writes that claim and release a slot, as
//! values every host executes exactly as given (the edge's Node host sends
//! them to DynamoDB as they serialise; the Rust stores evaluate
//! [`LeaseWrite::holds`]).
//!
//! Leases live in their own partition, `DEVICES#<sub>` / `SLOT#<n>`, not in
//! the viewer's `USER#` partition: the edge's IAM role may then write only
//! partitions whose key starts `DEVICES#` (`dynamodb:LeadingKeys`), never a
//! grant or a plan, and listing a viewer's holdings never reads a lease.

use serde::Serialize;
use serde::ser::SerializeMap;

use super::item::{AttrValue, Item};
use super::schema::{ATTR_PK, ATTR_SK, ATTR_TTL, SchemaError};
use crate::devices::{Device, Lease};
use crate::ids::UserSub;
use crate::time::EpochSeconds;

const PK_PREFIX: &str = "DEVICES#";
const SK_PREFIX: &str = "SLOT#";
const ATTR_DEVICE: &str = "device";
const ATTR_EXPIRES_AT: &str = "expires_at";
/// DynamoDB's TTL removes lapsed leases eventually; the rule never waits
/// for it (a lapsed lease is free at its `expires_at`).
const TTL_AFTER_SECS: u64 = 24 * 3600;

fn s(value: impl Into<String>) -> AttrValue {
    AttrValue::S(value.into())
}

fn n(value: u64) -> AttrValue {
    AttrValue::N(value.to_string())
}

pub fn lease_pk(user: &UserSub) -> String {
    format!("{PK_PREFIX}{user}")
}

pub fn lease_key(user: &UserSub, slot: u16) -> Item {
    Item::from([
        (ATTR_PK.to_owned(), s(lease_pk(user))),
        (ATTR_SK.to_owned(), s(format!("{SK_PREFIX}{slot}"))),
    ])
}

pub fn lease_item(user: &UserSub, lease: &Lease) -> Item {
    let mut item = lease_key(user, lease.slot);
    item.insert(ATTR_DEVICE.into(), s(lease.device.as_str()));
    item.insert(ATTR_EXPIRES_AT.into(), n(lease.expires_at.get()));
    item.insert(
        ATTR_TTL.into(),
        n(lease.expires_at.plus(TTL_AFTER_SECS).get()),
    );
    item
}

fn bad(attribute: &'static str, problem: &'static str) -> SchemaError {
    SchemaError { attribute, problem }
}

pub fn lease_from_item(item: &Item) -> Result<Lease, SchemaError> {
    let slot = match item.get(ATTR_SK) {
        Some(AttrValue::S(sk)) => sk
            .strip_prefix(SK_PREFIX)
            .and_then(|n| n.parse::<u16>().ok())
            .ok_or(bad(ATTR_SK, "not SLOT#<n>"))?,
        _ => return Err(bad(ATTR_SK, "missing")),
    };
    let device = match item.get(ATTR_DEVICE) {
        Some(AttrValue::S(device)) => Device::from_stored(device),
        _ => return Err(bad(ATTR_DEVICE, "missing")),
    };
    let expires_at = match item.get(ATTR_EXPIRES_AT) {
        Some(AttrValue::N(at)) => at
            .parse()
            .map(EpochSeconds::new)
            .map_err(|_| bad(ATTR_EXPIRES_AT, "not an epoch number"))?,
        _ => return Err(bad(ATTR_EXPIRES_AT, "missing")),
    };
    Ok(Lease {
        slot,
        device,
        expires_at,
    })
}

/// The leases a query of [`LeaseQuery`] returned.
pub fn leases_from_items<'a>(
    items: impl IntoIterator<Item = &'a Item>,
) -> Result<Vec<Lease>, SchemaError> {
    items.into_iter().map(lease_from_item).collect()
}

/// The one read a new device makes: every slot of the viewer, strongly
/// consistent, so a slot written a moment ago in this region is seen. On
/// the wire, the parameters of a DynamoDB `Query` (the host adds the table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseQuery {
    pub user: UserSub,
}

impl LeaseQuery {
    pub fn partition(&self) -> (&'static str, AttrValue) {
        (ATTR_PK, s(lease_pk(&self.user)))
    }
}

impl Serialize for LeaseQuery {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("KeyConditionExpression", "#pk = :pk")?;
        map.serialize_entry(
            "ExpressionAttributeNames",
            &[("#pk", ATTR_PK)].into_iter().collect::<Names>(),
        )?;
        map.serialize_entry(
            "ExpressionAttributeValues",
            &Item::from([(":pk".to_owned(), self.partition().1)]),
        )?;
        map.serialize_entry("ConsistentRead", &true)?;
        map.end()
    }
}

/// Placeholder names of an expression (`#pk` → `PK`).
pub type Names = std::collections::BTreeMap<&'static str, &'static str>;

/// One conditional write of a slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseWrite {
    /// Write `lease` into its slot if the slot is free, lapsed at `now`, or
    /// already the same device's (`devices::may_take`).
    Claim {
        user: UserSub,
        lease: Lease,
        now: EpochSeconds,
    },
    /// Delete the slot if it is still `device`'s.
    Release {
        user: UserSub,
        slot: u16,
        device: Device,
    },
}

impl LeaseWrite {
    pub fn key(&self) -> Item {
        match self {
            Self::Claim { user, lease, .. } => lease_key(user, lease.slot),
            Self::Release { user, slot, .. } => lease_key(user, *slot),
        }
    }

    /// Whether the write's condition holds over `current`, the item at
    /// its key now: the same test as the DynamoDB `ConditionExpression`
    /// this write serialises with. An unreadable item is never taken over.
    pub fn holds(&self, current: Option<&Item>) -> bool {
        let current = match current.map(lease_from_item) {
            None => None,
            Some(Ok(lease)) => Some(lease),
            Some(Err(_)) => return false,
        };
        match self {
            Self::Claim { lease, now, .. } => {
                crate::devices::may_take(current.as_ref(), &lease.device, *now)
            }
            Self::Release { device, .. } => current.is_some_and(|lease| lease.device == *device),
        }
    }

    /// The item a claim writes; `None` for a release, which deletes.
    pub fn item(&self) -> Option<Item> {
        match self {
            Self::Claim { user, lease, .. } => Some(lease_item(user, lease)),
            Self::Release { .. } => None,
        }
    }

    /// The `ConditionExpression`, its names and values, which check what
    /// [`LeaseWrite::holds`] checks.
    pub fn condition(&self) -> (&'static str, Names, Item) {
        let names = [("#dev", ATTR_DEVICE)];
        match self {
            Self::Claim { lease, now, .. } => (
                "attribute_not_exists(#pk) OR #exp <= :now OR #dev = :dev",
                names
                    .into_iter()
                    .chain([("#pk", ATTR_PK), ("#exp", ATTR_EXPIRES_AT)])
                    .collect(),
                Item::from([
                    (":now".to_owned(), n(now.get())),
                    (":dev".to_owned(), s(lease.device.as_str())),
                ]),
            ),
            Self::Release { device, .. } => (
                "#dev = :dev",
                names.into_iter().collect(),
                Item::from([(":dev".to_owned(), s(device.as_str()))]),
            ),
        }
    }
}

/// `{"put": <PutItem parameters>}` or `{"delete": <DeleteItem parameters>}`,
/// without `TableName`.
impl Serialize for LeaseWrite {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Params<'a>(&'a LeaseWrite);
        impl Serialize for Params<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let (text, names, values) = self.0.condition();
                let mut map = serializer.serialize_map(Some(4))?;
                match self.0.item() {
                    Some(item) => map.serialize_entry("Item", &item)?,
                    None => map.serialize_entry("Key", &self.0.key())?,
                }
                map.serialize_entry("ConditionExpression", text)?;
                map.serialize_entry("ExpressionAttributeNames", &names)?;
                map.serialize_entry("ExpressionAttributeValues", &values)?;
                map.end()
            }
        }
        let mut map = serializer.serialize_map(Some(1))?;
        let op = match self {
            Self::Claim { .. } => "put",
            Self::Release { .. } => "delete",
        };
        map.serialize_entry(op, &Params(self))?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> UserSub {
        UserSub::parse("u-1").unwrap()
    }

    fn device(name: &str) -> Device {
        Device::new(Some(name), None).unwrap()
    }

    fn claim(name: &str, slot: u16, now: u64) -> LeaseWrite {
        LeaseWrite::Claim {
            user: user(),
            lease: Lease {
                slot,
                device: device(name),
                expires_at: EpochSeconds::new(now + 360),
            },
            now: EpochSeconds::new(now),
        }
    }

    #[test]
    fn a_lease_round_trips_in_its_own_partition() {
        let LeaseWrite::Claim { lease, .. } = claim("jti-a", 1, 1000) else {
            unreachable!()
        };
        let item = lease_item(&user(), &lease);
        assert_eq!(item["PK"], AttrValue::S("DEVICES#u-1".into()));
        assert_eq!(item["SK"], AttrValue::S("SLOT#1".into()));
        assert_eq!(lease_from_item(&item).unwrap(), lease);
    }

    #[test]
    fn a_claim_serialises_as_a_conditional_put() {
        let json = serde_json::to_value(claim("jti-a", 0, 1000)).unwrap();
        assert_eq!(
            json["put"]["ConditionExpression"],
            "attribute_not_exists(#pk) OR #exp <= :now OR #dev = :dev"
        );
        assert_eq!(
            json["put"]["Item"]["SK"],
            serde_json::json!({"S": "SLOT#0"})
        );
        assert_eq!(
            json["put"]["ExpressionAttributeValues"][":now"],
            serde_json::json!({"N": "1000"})
        );
        let release = LeaseWrite::Release {
            user: user(),
            slot: 0,
            device: device("jti-a"),
        };
        let json = serde_json::to_value(release).unwrap();
        assert_eq!(json["delete"]["ConditionExpression"], "#dev = :dev");
        assert_eq!(
            json["delete"]["Key"]["PK"],
            serde_json::json!({"S": "DEVICES#u-1"})
        );
    }

    #[test]
    fn the_condition_takes_free_lapsed_or_own_slots_only() {
        let held = claim("jti-a", 0, 1000).item();
        assert!(claim("jti-b", 0, 1000).holds(None));
        assert!(claim("jti-a", 0, 1100).holds(held.as_ref()));
        assert!(!claim("jti-b", 0, 1100).holds(held.as_ref()));
        assert!(claim("jti-b", 0, 1360).holds(held.as_ref()));
        let release = |name: &str| LeaseWrite::Release {
            user: user(),
            slot: 0,
            device: device(name),
        };
        assert!(release("jti-a").holds(held.as_ref()));
        assert!(!release("jti-b").holds(held.as_ref()));
        assert!(!release("jti-a").holds(None));
    }

    #[test]
    fn a_hand_edited_lease_is_never_taken_over() {
        let mut item = claim("jti-a", 0, 1000).item().unwrap();
        item.insert("expires_at".into(), AttrValue::S("soon".into()));
        assert!(!claim("jti-b", 0, 5000).holds(Some(&item)));
    }

    #[test]
    fn the_query_reads_the_viewer_s_slots_strongly() {
        let json = serde_json::to_value(LeaseQuery { user: user() }).unwrap();
        assert_eq!(json["ConsistentRead"], true);
        assert_eq!(
            json["ExpressionAttributeValues"][":pk"],
            serde_json::json!({"S": "DEVICES#u-1"})
        );
    }
}
