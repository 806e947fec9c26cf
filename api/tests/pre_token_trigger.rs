//! The pre-token-generation V2 trigger on the documented event shape: claims
//! added for the caller's plan and titles, the over-limit marker, and sign-in
//! that still succeeds (no claims) when the store fails or is too slow.

mod support;

use std::net::TcpListener;

use aws_lambda_events::event::cognito::CognitoEventUserPoolsPreTokenGenV2;
use reelgate_api::dynamo::DynamoStore;
use reelgate_api::trigger::{self, TriggerSkip};
use reelgate_shared::EpochSeconds;
use reelgate_shared::entitlement::{PaymentEvent, TokenEntitlements};
use reelgate_shared::store::{EntitlementStore, MemoryStore};
use serde_json::Value;

/// The V2 event as the Cognito developer guide documents it.
fn documented_event(sub: &str) -> CognitoEventUserPoolsPreTokenGenV2 {
    serde_json::from_value(support::documented_pre_token_event(sub))
        .expect("the documented event deserializes")
}

const NOW: EpochSeconds = EpochSeconds::new(1_800_000_000);

async fn buy(store: &MemoryStore, sub: &str, videos: &[&str]) {
    for (i, video) in videos.iter().enumerate() {
        let body = format!(
            r#"{{"event_id":"evt_{sub}_{i}","type":"purchase.succeeded","user_sub":"{sub}","video_id":"{video}"}}"#
        );
        store
            .apply_payment(
                &PaymentEvent::parse(body.as_bytes()).unwrap(),
                NOW.plus(i as u64),
            )
            .await
            .unwrap();
    }
}

fn claim_of(event: &CognitoEventUserPoolsPreTokenGenV2) -> Option<TokenEntitlements> {
    let json = serde_json::to_value(event).unwrap();
    let claim = &json["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]["claimsToAddOrOverride"]
        ["reelgate:ent"];
    claim
        .as_str()
        .map(|text| TokenEntitlements::decode(text).unwrap())
}

#[tokio::test]
async fn the_caller_s_titles_go_into_the_access_token() {
    let store = MemoryStore::new();
    buy(&store, "a36036a8-7f09", &["demo", "intro"]).await;
    let mut event = documented_event("a36036a8-7f09");
    trigger::handle(&mut event, &store, 50, 1500, NOW.plus(10))
        .await
        .unwrap();
    let claims = claim_of(&event).expect("claims were added");
    let titles: Vec<&str> = claims.grants.iter().map(|(v, _)| v.as_str()).collect();
    assert_eq!(titles, ["intro", "demo"], "newest first");
    assert!(claims.complete);
    let json: Value = serde_json::to_value(&event).unwrap();
    assert_eq!(
        json["userName"], "JaneDoe",
        "the rest of the event is returned unchanged"
    );
}

#[tokio::test]
async fn over_the_limit_the_token_says_its_list_is_incomplete() {
    let store = MemoryStore::new();
    buy(&store, "many", &["a", "b", "c"]).await;
    let mut event = documented_event("many");
    trigger::handle(&mut event, &store, 2, 1500, NOW.plus(10))
        .await
        .unwrap();
    let claims = claim_of(&event).unwrap();
    assert_eq!(claims.grants.len(), 2);
    assert!(!claims.complete);
}

async fn dynamo_at(endpoint: &str) -> DynamoStore {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "t", "t", None, None, "test",
        ))
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .load()
        .await;
    DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), "reelgate")
}

#[tokio::test]
async fn an_unreachable_store_issues_the_token_without_claims() {
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let store = dynamo_at(&format!("http://127.0.0.1:{closed}")).await;
    let mut event = documented_event("someone");
    let skip = trigger::handle(&mut event, &store, 50, 1500, NOW)
        .await
        .unwrap_err();
    assert!(matches!(skip, TriggerSkip::Store(_)), "{skip}");
    assert!(claim_of(&event).is_none());
}

#[tokio::test]
async fn a_store_slower_than_the_budget_issues_the_token_without_claims() {
    // Accepts connections and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let store = dynamo_at(&format!("http://127.0.0.1:{port}")).await;
    let mut event = documented_event("someone");
    let skip = trigger::handle(&mut event, &store, 50, 300, NOW)
        .await
        .unwrap_err();
    assert!(matches!(skip, TriggerSkip::Timeout(300)), "{skip}");
    assert!(claim_of(&event).is_none());
    drop(silent);
}

#[tokio::test]
async fn an_event_without_a_valid_sub_is_skipped() {
    let store = MemoryStore::new();
    let mut event = documented_event("bad#sub");
    assert!(matches!(
        trigger::handle(&mut event, &store, 50, 1500, NOW).await,
        Err(TriggerSkip::NoSub)
    ));
}
