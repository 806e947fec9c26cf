//! What a write may overwrite: every write the stores make, as a pure value
//! (the item and the condition it is written under), so the in-memory store
//! and the DynamoDB store execute the same plan and neither spells a key,
//! a version or a condition.
//!
//! A payment writes its event item only if absent (a replay changes
//! nothing) and the new grant or plan only if the item is still as it was
//! read (two events for one item cannot lose an update). Items without a
//! `version` attribute (written by hand, by a backfill or by an older
//! release) are matched as such, so a refund applies to them too. A
//! purchase or rental that names its provider payment also writes the
//! refund index (`PI#<payment>`) in the same transaction, so a refund that
//! names only the payment finds the grant, and never finds a payment whose
//! grant was not written.

use super::item::{AttrValue, Item};
use super::schema::{
    self, ATTR_PK, ATTR_SK, ATTR_VERSION, PaymentRecord, SchemaError, event_item, grant_from_item,
    grant_item, payment_item, plan_from_item, plan_item, title_item,
};
use crate::entitlement::{Grant, PaymentEvent, PaymentKind, Plan, Title};
use crate::ids::UserSub;
use crate::time::EpochSeconds;

/// What a read saw of an item's version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    Absent,
    /// The item exists without a `version` attribute.
    Unversioned,
    At(u64),
}

impl Version {
    pub fn of(item: Option<&Item>) -> Result<Self, SchemaError> {
        Ok(match item {
            None => Self::Absent,
            Some(item) => match schema::version_attribute(item)? {
                None => Self::Unversioned,
                Some(version) => Self::At(version),
            },
        })
    }

    /// The version the next write of this item carries.
    pub fn next(self) -> u64 {
        match self {
            Self::Absent | Self::Unversioned => 1,
            Self::At(version) => version.saturating_add(1),
        }
    }
}

/// When a put may happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    Always,
    /// Only while the item is still as a read saw it.
    Unchanged(Version),
    /// Only over an existing item (an update must not create).
    Exists,
}

/// A DynamoDB `ConditionExpression` with its placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expression {
    pub text: &'static str,
    pub names: Vec<(&'static str, &'static str)>,
    pub values: Vec<(&'static str, AttrValue)>,
}

impl Condition {
    /// Whether the put may happen over `current` (the item at its key now).
    pub fn holds(self, current: Option<&Item>) -> bool {
        match self {
            Self::Always => true,
            Self::Unchanged(seen) => Version::of(current) == Ok(seen),
            Self::Exists => current.is_some(),
        }
    }

    /// The same condition for DynamoDB to check; `None` for `Always`.
    pub fn expression(self) -> Option<Expression> {
        let (text, names, values) = match self {
            Self::Always => return None,
            Self::Exists => ("attribute_exists(#pk)", vec![("#pk", ATTR_PK)], vec![]),
            Self::Unchanged(Version::Absent) => {
                ("attribute_not_exists(#pk)", vec![("#pk", ATTR_PK)], vec![])
            }
            Self::Unchanged(Version::Unversioned) => (
                "attribute_exists(#pk) AND attribute_not_exists(#v)",
                vec![("#pk", ATTR_PK), ("#v", ATTR_VERSION)],
                vec![],
            ),
            Self::Unchanged(Version::At(version)) => (
                "#v = :v",
                vec![("#v", ATTR_VERSION)],
                vec![(":v", AttrValue::N(version.to_string()))],
            ),
        };
        Some(Expression {
            text,
            names,
            values,
        })
    }
}

/// One item to write, and when it may be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Put {
    pub item: Item,
    pub condition: Condition,
}

impl Put {
    /// The item's primary key (`PK`, `SK`).
    pub fn key(&self) -> Item {
        self.item
            .iter()
            .filter(|(name, _)| *name == ATTR_PK || *name == ATTR_SK)
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect()
    }
}

/// An operator's grant (admin API, local seed data): written over whatever
/// is there, one version on.
pub fn grant_put(
    user: &UserSub,
    grant: &Grant,
    current: Option<&Item>,
) -> Result<Put, SchemaError> {
    Ok(Put {
        item: grant_item(user, grant, Version::of(current)?.next()),
        condition: Condition::Always,
    })
}

/// An operator's plan: written over whatever is there, one version on.
pub fn plan_put(user: &UserSub, plan: &Plan, current: Option<&Item>) -> Result<Put, SchemaError> {
    Ok(Put {
        item: plan_item(user, plan, Version::of(current)?.next()),
        condition: Condition::Always,
    })
}

/// How an operator writes a catalogue title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TitleWrite {
    /// A new title: refused when the id is listed already, so two
    /// operators picking one id cannot overwrite each other.
    Create,
    /// Replaces a listed title whole: refused when it is not listed, so a
    /// mistyped id is not silently created.
    Replace,
}

/// An operator's title write: the item, and the condition its
/// [`TitleWrite`] puts on the key (a failed condition is the answer
/// `title_exists` or `title_not_found`, never a retry).
pub fn title_put(title: &Title, write: TitleWrite) -> Put {
    Put {
        item: title_item(title),
        condition: match write {
            TitleWrite::Create => Condition::Unchanged(Version::Absent),
            TitleWrite::Replace => Condition::Exists,
        },
    }
}

/// Everything one payment event writes, in one all-or-nothing transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentWrites {
    /// The event's idempotency item, only if absent: a replay fails here.
    pub event: Put,
    /// The grant or plan after the event, only if unchanged since the read.
    pub change: Option<Put>,
    /// The refund index of a purchase or rental that names its payment.
    /// Unconditional: the item is only ever written with its grant.
    pub payment: Option<Put>,
}

impl PaymentWrites {
    /// The item the change is computed from: the event's grant, or the
    /// user's plan. Read it strongly, then call [`PaymentWrites::new`].
    pub fn read_key(event: &PaymentEvent) -> Item {
        match event.kind.video() {
            Some(video) => schema::grant_key(&event.user, video),
            None => schema::plan_key(&event.user),
        }
    }

    /// The writes for `event` received at `now`, given `current`, the item
    /// at [`PaymentWrites::read_key`] (`None`: absent).
    pub fn new(
        event: &PaymentEvent,
        current: Option<&Item>,
        now: EpochSeconds,
    ) -> Result<Self, SchemaError> {
        let seen = Version::of(current)?;
        let item = match event.kind.video() {
            Some(_) => {
                let grant = current.map(grant_from_item).transpose()?;
                event
                    .next_grant(grant.as_ref(), now)
                    .map(|next| grant_item(&event.user, &next, seen.next()))
            }
            None => {
                let plan = current.map(plan_from_item).transpose()?;
                event
                    .next_plan(plan.as_ref(), now)
                    .map(|next| plan_item(&event.user, &next, seen.next()))
            }
        };
        let payment = match (&event.kind, &event.payment_intent) {
            (
                PaymentKind::Purchase { video } | PaymentKind::Rental { video, .. },
                Some(payment),
            ) if item.is_some() => Some(Put {
                item: payment_item(
                    payment,
                    &PaymentRecord {
                        user: event.user.clone(),
                        video: video.clone(),
                    },
                    now,
                ),
                condition: Condition::Always,
            }),
            _ => None,
        };
        Ok(Self {
            event: Put {
                item: event_item(event, now),
                condition: Condition::Unchanged(Version::Absent),
            },
            change: item.map(|item| Put {
                item,
                condition: Condition::Unchanged(seen),
            }),
            payment,
        })
    }

    /// The puts in transaction order: the event first, then the change,
    /// then the refund index.
    pub fn puts(&self) -> impl Iterator<Item = &Put> {
        std::iter::once(&self.event)
            .chain(self.change.as_ref())
            .chain(self.payment.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::VideoId;

    fn event(body: &str) -> PaymentEvent {
        PaymentEvent::parse(body.as_bytes()).unwrap()
    }

    fn refund() -> PaymentEvent {
        event(r#"{"event_id":"e2","type":"refund.succeeded","user_sub":"u","video_id":"demo"}"#)
    }

    fn purchase_item(version: Option<u64>) -> Item {
        let user = UserSub::parse("u").unwrap();
        let grant = Grant {
            video: VideoId::parse("demo").unwrap(),
            source: crate::entitlement::GrantSource::Purchase,
            granted_at: EpochSeconds::new(1),
            purchase_id: None,
            revoked_at: None,
        };
        let mut item = grant_item(&user, &grant, 7);
        match version {
            Some(v) => item.insert(ATTR_VERSION.into(), AttrValue::N(v.to_string())),
            None => item.remove(ATTR_VERSION),
        };
        item
    }

    #[test]
    fn a_payment_writes_its_event_only_if_absent() {
        let writes = PaymentWrites::new(&refund(), None, EpochSeconds::new(5)).unwrap();
        assert_eq!(
            writes.event.condition,
            Condition::Unchanged(Version::Absent)
        );
        assert!(!writes.event.condition.holds(Some(&writes.event.item)));
        assert!(writes.event.condition.holds(None));
    }

    #[test]
    fn a_refund_of_an_absent_grant_writes_only_the_event() {
        let writes = PaymentWrites::new(&refund(), None, EpochSeconds::new(5)).unwrap();
        assert_eq!(writes.change, None);
        assert_eq!(writes.puts().count(), 1);
    }

    #[test]
    fn a_change_is_conditioned_on_the_version_read_and_bumps_it() {
        let current = purchase_item(Some(3));
        let writes = PaymentWrites::new(&refund(), Some(&current), EpochSeconds::new(5)).unwrap();
        let change = writes.change.unwrap();
        assert_eq!(change.condition, Condition::Unchanged(Version::At(3)));
        assert_eq!(change.item[ATTR_VERSION], AttrValue::N("4".into()));
        assert!(change.item.contains_key("revoked_at"));
        assert!(change.condition.holds(Some(&current)));
        assert!(!change.condition.holds(Some(&purchase_item(Some(4)))));
        assert!(!change.condition.holds(None));
    }

    #[test]
    fn a_refund_applies_to_a_grant_written_without_a_version() {
        let current = purchase_item(None);
        let writes = PaymentWrites::new(&refund(), Some(&current), EpochSeconds::new(5)).unwrap();
        let change = writes.change.unwrap();
        assert_eq!(change.condition, Condition::Unchanged(Version::Unversioned));
        assert!(change.condition.holds(Some(&current)));
        assert!(!change.condition.holds(None));
        assert!(!change.condition.holds(Some(&purchase_item(Some(1)))));
        assert_eq!(change.item[ATTR_VERSION], AttrValue::N("1".into()));
    }

    #[test]
    fn each_condition_has_the_dynamodb_expression_that_checks_the_same() {
        let absent = Condition::Unchanged(Version::Absent).expression().unwrap();
        assert_eq!(absent.text, "attribute_not_exists(#pk)");
        assert_eq!(absent.names, [("#pk", ATTR_PK)]);
        let unversioned = Condition::Unchanged(Version::Unversioned)
            .expression()
            .unwrap();
        assert_eq!(
            unversioned.text,
            "attribute_exists(#pk) AND attribute_not_exists(#v)"
        );
        assert_eq!(unversioned.names, [("#pk", ATTR_PK), ("#v", ATTR_VERSION)]);
        let at = Condition::Unchanged(Version::At(3)).expression().unwrap();
        assert_eq!(at.text, "#v = :v");
        assert_eq!(at.names, [("#v", ATTR_VERSION)]);
        assert_eq!(at.values, [(":v", AttrValue::N("3".into()))]);
        assert_eq!(Condition::Always.expression(), None);
    }

    #[test]
    fn a_paid_purchase_indexes_its_payment_in_the_same_transaction() {
        let mut purchase = event(
            r#"{"event_id":"e1","type":"purchase.succeeded","user_sub":"u","video_id":"demo"}"#,
        );
        let plain = PaymentWrites::new(&purchase, None, EpochSeconds::new(5)).unwrap();
        assert_eq!(plain.payment, None, "no payment named, no index");
        let payment = crate::ids::PaymentIntentId::parse("pi_1").unwrap();
        purchase.payment_intent = Some(payment.clone());
        let writes = PaymentWrites::new(&purchase, None, EpochSeconds::new(5)).unwrap();
        let index = writes.payment.clone().unwrap();
        assert_eq!(index.key(), schema::payment_key(&payment));
        assert_eq!(
            schema::payment_record_from_item(&index.item).unwrap(),
            PaymentRecord {
                user: UserSub::parse("u").unwrap(),
                video: VideoId::parse("demo").unwrap(),
            }
        );
        let order: Vec<Item> = writes.puts().map(Put::key).collect();
        assert_eq!(
            order,
            [
                schema::event_key(&purchase.event_id),
                schema::grant_key(&purchase.user, &VideoId::parse("demo").unwrap()),
                schema::payment_key(&payment),
            ]
        );
    }

    #[test]
    fn a_plan_event_reads_and_writes_the_plan() {
        let activate = event(
            r#"{"event_id":"e1","type":"plan.activated","user_sub":"u","premium_until":5000}"#,
        );
        assert_eq!(
            PaymentWrites::read_key(&activate),
            schema::plan_key(&UserSub::parse("u").unwrap())
        );
        let writes = PaymentWrites::new(&activate, None, EpochSeconds::new(5)).unwrap();
        let change = writes.change.unwrap();
        assert_eq!(change.condition, Condition::Unchanged(Version::Absent));
        assert_eq!(change.key(), PaymentWrites::read_key(&activate));
    }
}
