//! Benchmark (not a test): the webhook path and the pre-token trigger against
//! the raw DynamoDB calls they make, on DynamoDB Local, interleaved in one
//! run. Budget (ARCHITECTURE §10): ≤ 20% overhead.
//!
//! `scripts/bench-api`

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use axum::body::Body;
use axum::http::Request;
use reelgate_api::auth::{Authenticator, JwksSource, now};
use reelgate_api::dynamo::DynamoStore;
use reelgate_api::{App, router, trigger, webhook};
use reelgate_shared::config::ApiConfig;
use reelgate_shared::crypto::native::SigningKey;
use reelgate_tests::{dynamodb_client, dynamodb_local, tokens};
use tower::ServiceExt;

const ROUNDS: usize = 7;
const PER_ROUND: usize = 100;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

#[tokio::main]
async fn main() {
    let server = dynamodb_local();
    let client = dynamodb_client(&server.endpoint()).await;
    let store = DynamoStore::new(client.clone(), "reelgate");
    store.create_table_if_missing().await.unwrap();
    let key = include_str!("../../shared/tests/keys/p256.pkcs8.pem");
    let env: HashMap<&str, String> = HashMap::from([
        ("REELGATE_ISSUER", tokens::ISSUER.to_owned()),
        ("REELGATE_CLIENT_IDS", tokens::CLIENT.to_owned()),
        ("REELGATE_KEY_PAIR_ID", "K2BENCH".to_owned()),
        ("REELGATE_TABLE", "reelgate".to_owned()),
        ("REELGATE_WEBHOOK_SECRET", "whsec".to_owned()),
        ("REELGATE_SIGNING_KEY_PEM", key.to_owned()),
    ]);
    let config = ApiConfig::from_env(&|k| env.get(k).cloned()).unwrap();
    let app = router(Arc::new(App {
        store: store.clone(),
        auth: Authenticator::new(config.verifier.clone(), tokens::jwks(), JwksSource::Fixed),
        config,
        webhook_secret: b"whsec".to_vec(),
        stripe_webhook_secret: None,
        signing_key: SigningKey::from_pem(key).unwrap(),
    }));

    let mut counter = 0u64;
    let (mut raw_webhook, mut ours_webhook, mut raw_trigger, mut ours_trigger) =
        (vec![], vec![], vec![], vec![]);
    for _ in 0..ROUNDS {
        // Raw: what apply_payment does for a first purchase — a strong read, then one transaction.
        let start = Instant::now();
        for _ in 0..PER_ROUND {
            counter += 1;
            let user = format!("USER#raw{counter}");
            client
                .get_item()
                .table_name("reelgate")
                .key("PK", s(&user))
                .key("SK", s("VIDEO#demo"))
                .consistent_read(true)
                .send()
                .await
                .unwrap();
            let event = Put::builder()
                .table_name("reelgate")
                .item("PK", s(&format!("EVENT#raw{counter}")))
                .item("SK", s("EVENT"))
                .item("type", s("purchase.succeeded"))
                .item("received_at", n(1))
                .item("ttl", n(2))
                .condition_expression("attribute_not_exists(PK)")
                .build()
                .unwrap();
            let grant = Put::builder()
                .table_name("reelgate")
                .item("PK", s(&user))
                .item("SK", s("VIDEO#demo"))
                .item("source", s("purchase"))
                .item("granted_at", n(1))
                .item("version", n(1))
                .condition_expression("attribute_not_exists(PK)")
                .build()
                .unwrap();
            client
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().put(event).build())
                .transact_items(TransactWriteItem::builder().put(grant).build())
                .send()
                .await
                .unwrap();
        }
        raw_webhook.push(start.elapsed().as_secs_f64() * 1e6 / PER_ROUND as f64);

        // Ours: the full webhook route (signature, parsing, the same read and transaction).
        let start = Instant::now();
        for _ in 0..PER_ROUND {
            counter += 1;
            let body = format!(
                r#"{{"event_id":"evt_{counter}","type":"purchase.succeeded","user_sub":"u{counter}","video_id":"demo"}}"#
            );
            let request = Request::post("/api/webhooks/payments")
                .header("content-type", "application/json")
                .header(
                    "reelgate-signature",
                    webhook::sign(b"whsec", now().get(), body.as_bytes()),
                )
                .body(Body::from(body))
                .unwrap();
            let response = app.clone().oneshot(request).await.unwrap();
            assert!(response.status().is_success());
        }
        ours_webhook.push(start.elapsed().as_secs_f64() * 1e6 / PER_ROUND as f64);

        // Raw: the trigger's one query.
        let start = Instant::now();
        for i in 0..PER_ROUND {
            client
                .query()
                .table_name("reelgate")
                .key_condition_expression("PK = :pk")
                .expression_attribute_values(":pk", s(&format!("USER#u{}", counter - i as u64)))
                .consistent_read(true)
                .send()
                .await
                .unwrap();
        }
        raw_trigger.push(start.elapsed().as_secs_f64() * 1e6 / PER_ROUND as f64);

        // Ours: the trigger handler on the documented event shape.
        let start = Instant::now();
        for i in 0..PER_ROUND {
            let mut event: aws_lambda_events::event::cognito::CognitoEventUserPoolsPreTokenGenV2 = serde_json::from_value(serde_json::json!({
                "version": "2", "triggerSource": "TokenGeneration_Authentication", "region": "us-east-1", "userPoolId": "p",
                "userName": "u", "callerContext": {"awsSdkVersion": "x", "clientId": "c"},
                "request": {"userAttributes": {"sub": format!("u{}", counter - i as u64)}, "groupConfiguration": {"groupsToOverride": [], "iamRolesToOverride": [], "preferredRole": null}, "scopes": []},
                "response": {"claimsAndScopeOverrideDetails": null}
            })).unwrap();
            trigger::handle(&mut event, &store, 50, 1500, now())
                .await
                .unwrap();
        }
        ours_trigger.push(start.elapsed().as_secs_f64() * 1e6 / PER_ROUND as f64);
    }
    let (rw, ow, rt, ot) = (
        median(raw_webhook),
        median(ours_webhook),
        median(raw_trigger),
        median(ours_trigger),
    );
    println!("path | raw DynamoDB µs | reelgate µs | overhead | budget");
    println!(
        "webhook (read + TransactWriteItems) | {rw:.0} | {ow:.0} | {:+.1}% | ≤ +20%",
        (ow / rw - 1.0) * 100.0
    );
    println!(
        "pre-token trigger (Query) | {rt:.0} | {ot:.0} | {:+.1}% | ≤ +20%",
        (ot / rt - 1.0) * 100.0
    );
}
