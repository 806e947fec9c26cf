//! `EntitlementStore` on DynamoDB. The schema, the keys and every write
//! with its condition come from `shared::store`; this file only executes
//! them with the SDK.
//!
//! A payment applies in one `TransactWriteItems` of `PaymentWrites::puts`:
//! the event item (a replay fails its condition and changes nothing), then
//! the new grant or plan (a concurrent change fails its condition and the
//! payment is retried from a fresh read). A failure never half-writes.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeValue, KeysAndAttributes, Put, ReturnValue, TransactWriteItem,
};
use reelgate_shared::entitlement::{Grant, PaymentEvent, Plan, Title, UserEntitlements};
use reelgate_shared::ids::PaymentIntentId;
use reelgate_shared::store::{
    self, ATTR_PK, ATTR_SK, ApplyOutcome, AttrValue, CatalogueStore, Condition, Consistency,
    EntitlementStore, Item, LeaseStore, PaymentRecord, PaymentWrites, Snapshot, SnapshotKeys,
    StoreError, TitleWrite,
};
use reelgate_shared::{EpochSeconds, UserSub, VideoId};

/// Attempts for one payment when concurrent writers race on the same item.
const MAX_ATTEMPTS: u32 = 6;

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

fn to_sdk_value(value: AttrValue) -> AttributeValue {
    match value {
        AttrValue::S(s) => AttributeValue::S(s),
        AttrValue::N(n) => AttributeValue::N(n),
        AttrValue::Bool(b) => AttributeValue::Bool(b),
        AttrValue::Null(b) => AttributeValue::Null(b),
        AttrValue::Ss(set) => AttributeValue::Ss(set),
    }
}

fn to_sdk(item: Item) -> HashMap<String, AttributeValue> {
    item.into_iter()
        .map(|(name, value)| (name, to_sdk_value(value)))
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
                AttributeValue::Ss(set) => AttrValue::Ss(set.clone()),
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

/// A condition's expression, names and values, as the SDK's builders take them.
type SdkCondition = (
    Option<String>,
    Option<HashMap<String, String>>,
    Option<HashMap<String, AttributeValue>>,
);

fn sdk_condition(condition: Condition) -> SdkCondition {
    let Some(expression) = condition.expression() else {
        return (None, None, None);
    };
    let names = expression
        .names
        .iter()
        .map(|(placeholder, name)| ((*placeholder).to_owned(), (*name).to_owned()))
        .collect();
    let values: Item = expression
        .values
        .into_iter()
        .map(|(placeholder, value)| (placeholder.to_owned(), value))
        .collect();
    let values = (!values.is_empty()).then(|| to_sdk(values));
    (Some(expression.text.to_owned()), Some(names), values)
}

fn transact_put(put: &store::Put, table: &str) -> Result<TransactWriteItem, StoreError> {
    let (expression, names, values) = sdk_condition(put.condition);
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(to_sdk(put.item.clone())))
        .set_condition_expression(expression)
        .set_expression_attribute_names(names)
        .set_expression_attribute_values(values)
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

    /// Every item of one partition (`(attribute, value)` from the store
    /// schema), all pages, read consistently: holdings, the catalogue and device leases are
    /// decided on what this region holds now.
    async fn partition(
        &self,
        (attribute, value): (&str, AttrValue),
    ) -> Result<Vec<Item>, StoreError> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", attribute)
            .expression_attribute_values(":pk", to_sdk_value(value))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        let mut items = Vec::new();
        while let Some(item) = pages.next().await {
            items.push(from_sdk(&item.map_err(sdk_error)?));
        }
        Ok(items)
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

    /// Performs `put` under its condition: whether the condition held (a
    /// put without one always does).
    async fn put(&self, put: store::Put) -> Result<bool, StoreError> {
        let (expression, names, values) = sdk_condition(put.condition);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_sdk(put.item)))
            .set_condition_expression(expression)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) => condition_failed(error),
        }
    }

    /// Performs `put`, conditioned on the item read just before it: a
    /// concurrent change in between is a conflict the caller may retry.
    async fn put_over(&self, put: store::Put) -> Result<(), StoreError> {
        if self.put(put).await? {
            Ok(())
        } else {
            Err(StoreError::Conflict)
        }
    }

    /// Deletes the item at `key`: whether there was one.
    async fn delete(&self, key: Item) -> Result<bool, StoreError> {
        let output = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(to_sdk(key)))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(output.attributes().is_some_and(|a| !a.is_empty()))
    }

    /// One attempt at applying `event`: `Ok(None)` when a concurrent writer
    /// moved the item first and the caller should retry.
    async fn try_apply(
        &self,
        event: &PaymentEvent,
        now: EpochSeconds,
    ) -> Result<Option<ApplyOutcome>, StoreError> {
        let current = self.get(PaymentWrites::read_key(event), true).await?;
        let writes = PaymentWrites::new(event, current.as_ref(), now)?
            .puts()
            .map(|put| transact_put(put, &self.table))
            .collect::<Result<Vec<_>, _>>()?;
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
        // Reasons come in the order of `PaymentWrites::puts`: event, change,
        // refund index (unconditional, so never the one that failed).
        match reasons.as_slice() {
            // The event item already exists: a replay. Nothing was written.
            [Some(code), ..] if code == "ConditionalCheckFailed" => {
                Ok(Some(ApplyOutcome::Duplicate))
            }
            // The grant or plan moved under us: retry from a fresh read.
            [_, Some(code), ..] if code == "ConditionalCheckFailed" => Ok(None),
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
        let keys = SnapshotKeys::new(user.clone(), video.clone())
            .keys()
            .into_iter()
            .fold(KeysAndAttributes::builder(), |keys, key| {
                keys.keys(to_sdk(key))
            })
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
        let items: Vec<Item> = output
            .responses()
            .and_then(|r| r.get(&self.table))
            .into_iter()
            .flatten()
            .map(from_sdk)
            .collect();
        Ok(store::snapshot_from_items(&items)?)
    }

    async fn entitlements(&self, user: &UserSub) -> Result<UserEntitlements, StoreError> {
        let items = self.partition(store::holdings_partition(user)).await?;
        Ok(store::holdings_from_items(&items)?)
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

    async fn payment(
        &self,
        payment: &PaymentIntentId,
    ) -> Result<Option<PaymentRecord>, StoreError> {
        let item = self.get(store::payment_key(payment), true).await?;
        Ok(item
            .as_ref()
            .map(store::payment_record_from_item)
            .transpose()?)
    }

    async fn put_plan(&self, user: &UserSub, plan: Option<Plan>) -> Result<(), StoreError> {
        let key = store::plan_key(user);
        match plan {
            Some(plan) => {
                let current = self.get(key, true).await?;
                self.put_over(store::plan_put(user, &plan, current.as_ref())?)
                    .await
            }
            None => self.delete(key).await.map(drop),
        }
    }

    async fn put_grant(&self, user: &UserSub, grant: Grant) -> Result<(), StoreError> {
        let current = self.get(store::grant_key(user, &grant.video), true).await?;
        self.put_over(store::grant_put(user, &grant, current.as_ref())?)
            .await
    }

    async fn delete_grant(&self, user: &UserSub, video: &VideoId) -> Result<bool, StoreError> {
        self.delete(store::grant_key(user, video)).await
    }
}

impl CatalogueStore for DynamoStore {
    async fn titles(&self) -> Result<Vec<Title>, StoreError> {
        let items = self.partition(store::catalogue_partition()).await?;
        Ok(store::titles_from_items(&items)?)
    }

    async fn put_title(&self, title: &Title, write: TitleWrite) -> Result<bool, StoreError> {
        self.put(store::title_put(title, write)).await
    }

    async fn delete_title(&self, video: &VideoId) -> Result<bool, StoreError> {
        self.delete(store::title_key(video)).await
    }
}

/// The edge's lease reads and writes, as the native host performs them.
impl LeaseStore for DynamoStore {
    async fn leases(&self, query: &store::LeaseQuery) -> Result<Vec<Item>, StoreError> {
        self.partition(query.partition()).await
    }

    async fn write_lease(&self, write: &store::LeaseWrite) -> Result<bool, StoreError> {
        let (text, names, values) = write.condition();
        let names: HashMap<String, String> = names
            .into_iter()
            .map(|(placeholder, name)| (placeholder.to_owned(), name.to_owned()))
            .collect();
        match write.item() {
            Some(item) => match self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(to_sdk(item)))
                .condition_expression(text)
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(Some(to_sdk(values)))
                .send()
                .await
            {
                Ok(_) => Ok(true),
                Err(error) => condition_failed(error),
            },
            None => match self
                .client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(to_sdk(write.key())))
                .condition_expression(text)
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(Some(to_sdk(values)))
                .send()
                .await
            {
                Ok(_) => Ok(true),
                Err(error) => condition_failed(error),
            },
        }
    }
}

/// A write whose condition did not hold is an answer (`false`), not an error.
fn condition_failed<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    error: SdkError<E, R>,
) -> Result<bool, StoreError> {
    if error.code() == Some("ConditionalCheckFailedException") {
        Ok(false)
    } else {
        Err(sdk_error(error))
    }
}
