//! `EntitlementStore` on DynamoDB, in the single-table schema of
//! ARCHITECTURE §7 (the conversions live in `shared::store`).
//!
//! A payment applies in one `TransactWriteItems`: the event item guarded by
//! `attribute_not_exists(PK)` (so a replay changes nothing) and the new
//! grant or plan guarded by the version it was computed from (so two
//! different events for the same item cannot lose an update). A lost
//! version race is retried with the fresh item; a failure never half-writes.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeValue, KeysAndAttributes, Put, ReturnValue, TransactWriteItem,
};
use reelgate_shared::entitlement::{Grant, PaymentEvent, Plan, UserEntitlements};
use reelgate_shared::store::{
    self, ATTR_PK, ATTR_SK, ATTR_VERSION, ApplyOutcome, AttrValue, Consistency, EntitlementStore,
    Item, Snapshot, StoreError,
};
use reelgate_shared::{EpochSeconds, UserSub, VideoId};

/// Attempts for one payment when concurrent writers race on the same item.
const MAX_ATTEMPTS: u32 = 6;

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

fn to_sdk(item: Item) -> HashMap<String, AttributeValue> {
    item.into_iter()
        .map(|(name, value)| {
            let value = match value {
                AttrValue::S(s) => AttributeValue::S(s),
                AttrValue::N(n) => AttributeValue::N(n),
                AttrValue::Bool(b) => AttributeValue::Bool(b),
                AttrValue::Null(b) => AttributeValue::Null(b),
            };
            (name, value)
        })
        .collect()
}

/// Attributes of types reelgate never writes are dropped: they cannot
/// matter to a decision, and the schema conversion validates the rest.
fn from_sdk(item: &HashMap<String, AttributeValue>) -> Item {
    item.iter()
        .filter_map(|(name, value)| {
            let value = match value {
                AttributeValue::S(s) => AttrValue::S(s.clone()),
                AttributeValue::N(n) => AttrValue::N(n.clone()),
                AttributeValue::Bool(b) => AttrValue::Bool(*b),
                AttributeValue::Null(b) => AttrValue::Null(*b),
                _ => return None,
            };
            Some((name.clone(), value))
        })
        .collect()
}

fn sdk_error<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    error: SdkError<E, R>,
) -> StoreError {
    let throttled = matches!(
        error.code(),
        Some(
            "ProvisionedThroughputExceededException"
                | "ThrottlingException"
                | "RequestLimitExceeded"
        )
    );
    if throttled {
        StoreError::Throttled
    } else {
        StoreError::Unavailable(DisplayErrorContext(error).to_string())
    }
}

/// The condition that the item is still at `version` (or still absent).
fn versioned_put(
    item: Item,
    version: Option<u64>,
    table: &str,
) -> Result<TransactWriteItem, StoreError> {
    let mut put = Put::builder()
        .table_name(table)
        .set_item(Some(to_sdk(item)));
    put = match version {
        None => put.condition_expression("attribute_not_exists(PK)"),
        Some(v) => put
            .condition_expression("#v = :v")
            .expression_attribute_names("#v", ATTR_VERSION)
            .expression_attribute_values(":v", AttributeValue::N(v.to_string())),
    };
    let put = put
        .build()
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Creates the table with the §7 key schema, on demand, TTL on `ttl`
    /// (for the local stack and tests; production tables come from infra/).
    pub async fn create_table_if_missing(&self) -> Result<bool, StoreError> {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
        };
        if self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .is_ok()
        {
            return Ok(false);
        }
        let attribute = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(|e| StoreError::Unavailable(e.to_string()))
        };
        let key = |name: &str, kind| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .map_err(|e| StoreError::Unavailable(e.to_string()))
        };
        let created = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attribute(ATTR_PK)?)
            .attribute_definitions(attribute(ATTR_SK)?)
            .key_schema(key(ATTR_PK, KeyType::Hash)?)
            .key_schema(key(ATTR_SK, KeyType::Range)?)
            .send()
            .await;
        match created {
            Ok(_) => Ok(true),
            // Another process created it meanwhile, or an attempt that timed
            // out did and the SDK's retry found it: either way it exists.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_in_use_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(sdk_error(e)),
        }
    }

    async fn get(&self, key: Item, consistent: bool) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(to_sdk(key)))
            .consistent_read(consistent)
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(output.item().map(from_sdk))
    }

    /// One attempt at applying `event`: `Ok(None)` when a concurrent writer
    /// moved the item first and the caller should retry.
    async fn try_apply(
        &self,
        event: &PaymentEvent,
        now: EpochSeconds,
    ) -> Result<Option<ApplyOutcome>, StoreError> {
        let mut writes = vec![versioned_put(
            store::event_item(event, now),
            None,
            &self.table,
        )?];
        if let Some(video) = event.kind.video() {
            let current = self.get(store::grant_key(&event.user, video), true).await?;
            let version = current.as_ref().map(store::version_of).transpose()?;
            let grant = current.as_ref().map(store::grant_from_item).transpose()?;
            if let Some(next) = event.next_grant(grant.as_ref(), now) {
                let item = store::grant_item(&event.user, &next, version.unwrap_or(0) + 1);
                writes.push(versioned_put(item, version, &self.table)?);
            }
        } else {
            let current = self.get(store::plan_key(&event.user), true).await?;
            let version = current.as_ref().map(store::version_of).transpose()?;
            let plan = current.as_ref().map(store::plan_from_item).transpose()?;
            if let Some(next) = event.next_plan(plan.as_ref(), now) {
                let item = store::plan_item(&event.user, &next, version.unwrap_or(0) + 1);
                writes.push(versioned_put(item, version, &self.table)?);
            }
        }
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .send()
            .await;
        let Err(error) = result else {
            return Ok(Some(ApplyOutcome::Applied));
        };
        let reasons: Vec<Option<String>> = match error.as_service_error() {
            Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(e)) => e
                .cancellation_reasons()
                .iter()
                .map(|r| r.code().map(str::to_owned))
                .collect(),
            _ => return Err(sdk_error(error)),
        };
        match reasons.as_slice() {
            // The event item already exists: a replay. Nothing was written.
            [Some(code), ..] if code == "ConditionalCheckFailed" => {
                Ok(Some(ApplyOutcome::Duplicate))
            }
            // The grant or plan moved under us: retry from a fresh read.
            [_, Some(code)] if code == "ConditionalCheckFailed" => Ok(None),
            // Another transaction held one of the items, or throttling.
            _ if reasons
                .iter()
                .flatten()
                .any(|c| c == "TransactionConflict" || c == "ThrottlingError") =>
            {
                Ok(None)
            }
            _ => Err(StoreError::Unavailable(format!(
                "transaction cancelled: {reasons:?}"
            ))),
        }
    }
}

impl EntitlementStore for DynamoStore {
    async fn snapshot(
        &self,
        user: &UserSub,
        video: &VideoId,
        consistency: Consistency,
    ) -> Result<Snapshot, StoreError> {
        let keys = KeysAndAttributes::builder()
            .keys(to_sdk(store::grant_key(user, video)))
            .keys(to_sdk(store::plan_key(user)))
            .consistent_read(consistency == Consistency::Strong)
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let output = self
            .client
            .batch_get_item()
            .request_items(&self.table, keys)
            .send()
            .await
            .map_err(sdk_error)?;
        if output.unprocessed_keys().is_some_and(|k| !k.is_empty()) {
            return Err(StoreError::Throttled);
        }
        let mut snapshot = Snapshot::default();
        for item in output
            .responses()
            .and_then(|r| r.get(&self.table))
            .into_iter()
            .flatten()
        {
            let item = from_sdk(item);
            match item.get(ATTR_SK) {
                Some(AttrValue::S(sk)) if sk == "PLAN" => {
                    snapshot.plan = Some(store::plan_from_item(&item)?)
                }
                _ => snapshot.grant = Some(store::grant_from_item(&item)?),
            }
        }
        Ok(snapshot)
    }

    async fn entitlements(&self, user: &UserSub) -> Result<UserEntitlements, StoreError> {
        let mut all = UserEntitlements::default();
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(store::user_pk(user)))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        while let Some(item) = pages.next().await {
            let item = from_sdk(&item.map_err(sdk_error)?);
            match item.get(ATTR_SK) {
                Some(AttrValue::S(sk)) if sk == "PLAN" => {
                    all.plan = Some(store::plan_from_item(&item)?)
                }
                Some(AttrValue::S(sk)) if sk.starts_with("VIDEO#") => {
                    all.grants.push(store::grant_from_item(&item)?)
                }
                _ => {}
            }
        }
        all.grants.sort_by(|a, b| {
            b.granted_at
                .cmp(&a.granted_at)
                .then_with(|| a.video.cmp(&b.video))
        });
        Ok(all)
    }

    async fn apply_payment(
        &self,
        event: &PaymentEvent,
        now: EpochSeconds,
    ) -> Result<ApplyOutcome, StoreError> {
        for attempt in 0..MAX_ATTEMPTS {
            if let Some(outcome) = self.try_apply(event, now).await? {
                return Ok(outcome);
            }
            // Jittered backoff: concurrent deliveries of different events for
            // one user must not retry in lockstep.
            let jitter = u64::from(
                event.event_id.as_str().bytes().fold(attempt, |a, b| {
                    a.wrapping_mul(31).wrapping_add(u32::from(b))
                }) % 20,
            );
            tokio::time::sleep(Duration::from_millis((10 << attempt) + jitter)).await;
        }
        Err(StoreError::Conflict)
    }

    async fn put_plan(&self, user: &UserSub, plan: Option<Plan>) -> Result<(), StoreError> {
        match plan {
            Some(plan) => {
                let current = self.get(store::plan_key(user), true).await?;
                let version = current
                    .as_ref()
                    .map(store::version_of)
                    .transpose()?
                    .unwrap_or(0);
                let item = store::plan_item(user, &plan, version + 1);
                self.client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(to_sdk(item)))
                    .send()
                    .await
                    .map_err(sdk_error)?;
            }
            None => {
                self.client
                    .delete_item()
                    .table_name(&self.table)
                    .set_key(Some(to_sdk(store::plan_key(user))))
                    .send()
                    .await
                    .map_err(sdk_error)?;
            }
        }
        Ok(())
    }

    async fn put_grant(&self, user: &UserSub, grant: Grant) -> Result<(), StoreError> {
        let current = self.get(store::grant_key(user, &grant.video), true).await?;
        let version = current
            .as_ref()
            .map(store::version_of)
            .transpose()?
            .unwrap_or(0);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_sdk(store::grant_item(user, &grant, version + 1))))
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }

    async fn delete_grant(&self, user: &UserSub, video: &VideoId) -> Result<bool, StoreError> {
        let output = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(to_sdk(store::grant_key(user, video))))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(output.attributes().is_some_and(|a| !a.is_empty()))
    }
}
