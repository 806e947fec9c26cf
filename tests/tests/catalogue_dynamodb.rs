//! The catalogue against DynamoDB Local: title items written and read by
//! the DynamoDB store exactly as by the in-memory store (the reference),
//! conditions included; a hand-edited item reported by attribute; and the
//! API's catalogue routes (public list, admin writes, bad bodies that
//! write nothing) and its decision with a catalogue (free titles, tiers,
//! licensing windows, unlisted titles) on the DynamoDB store.

use aws_sdk_dynamodb::types::AttributeValue;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use reelgate_api::auth::now;
use reelgate_api::dynamo::DynamoStore;
use reelgate_shared::entitlement::{Grant, GrantSource, Plan, Title};
use reelgate_shared::ids::Tier;
use reelgate_shared::store::{
    CatalogueStore, Consistency, EntitlementStore, MemoryStore, StoreError, TitleWrite,
};
use reelgate_shared::{EpochSeconds, UserSub, VideoId};
use reelgate_tests::api::{self, ApiOnDynamoDb, api_on_dynamodb};
use reelgate_tests::{dynamodb_client, dynamodb_local, tokens};
use serde_json::{Value, json};

fn title(id: &str) -> Title {
    Title {
        id: VideoId::parse(id).unwrap(),
        name: format!("Title {id}"),
        free: false,
        tiers: vec![Tier::parse("premium").unwrap()],
        price: Some(499),
        rental_price: Some(199),
        currency: Some("usd".into()),
        available_from: None,
        available_until: None,
    }
}

fn free(id: &str) -> Title {
    Title {
        free: true,
        tiers: vec![],
        price: None,
        rental_price: None,
        currency: None,
        ..title(id)
    }
}

async fn dynamo(server: &reelgate_tests::Server) -> DynamoStore {
    let store = DynamoStore::new(dynamodb_client(&server.endpoint()).await, "reelgate");
    assert!(store.create_table_if_missing().await.unwrap());
    store
}

/// The same steps on any catalogue store, with what each answered.
async fn script<S: CatalogueStore + EntitlementStore>(store: &S) -> Vec<String> {
    let mut seen = Vec::new();
    let mut note = |what: &str, value: String| seen.push(format!("{what}: {value}"));
    note(
        "create demo",
        format!(
            "{:?}",
            store.put_title(&title("demo"), TitleWrite::Create).await
        ),
    );
    note(
        "create demo again",
        format!(
            "{:?}",
            store.put_title(&free("demo"), TitleWrite::Create).await
        ),
    );
    note(
        "replace missing",
        format!(
            "{:?}",
            store.put_title(&free("nope"), TitleWrite::Replace).await
        ),
    );
    note(
        "create trailer",
        format!(
            "{:?}",
            store.put_title(&title("trailer"), TitleWrite::Create).await
        ),
    );
    note(
        "replace trailer",
        format!(
            "{:?}",
            store.put_title(&free("trailer"), TitleWrite::Replace).await
        ),
    );
    let listed = store.titles().await.unwrap();
    note("titles", format!("{listed:?}"));
    let user = UserSub::parse("u-1").unwrap();
    store
        .put_plan(
            &user,
            Some(Plan {
                tier: "premium".into(),
                premium_until: EpochSeconds::new(9_999_999_999),
                max_devices: None,
            }),
        )
        .await
        .unwrap();
    store
        .put_grant(
            &user,
            Grant {
                video: VideoId::parse("demo").unwrap(),
                source: GrantSource::Purchase,
                granted_at: EpochSeconds::new(5),
                purchase_id: None,
                revoked_at: None,
            },
        )
        .await
        .unwrap();
    // A user's holdings never list catalogue items.
    note(
        "holdings",
        format!(
            "{:?}",
            store.entitlements(&user).await.map(|h| h.grants.len())
        ),
    );
    let snapshot = store
        .snapshot(&user, &VideoId::parse("demo").unwrap(), Consistency::Strong)
        .await
        .unwrap();
    note("snapshot title", format!("{:?}", snapshot.title));
    note("snapshot plan", format!("{:?}", snapshot.plan.is_some()));
    let unlisted = store
        .snapshot(
            &user,
            &VideoId::parse("other").unwrap(),
            Consistency::Strong,
        )
        .await
        .unwrap();
    note("unlisted title", format!("{:?}", unlisted.title));
    note(
        "delete demo",
        format!(
            "{:?}",
            store.delete_title(&VideoId::parse("demo").unwrap()).await
        ),
    );
    note(
        "delete demo again",
        format!(
            "{:?}",
            store.delete_title(&VideoId::parse("demo").unwrap()).await
        ),
    );
    note(
        "titles after",
        format!("{:?}", store.titles().await.unwrap()),
    );
    seen
}

#[tokio::test]
#[ignore = "needs DynamoDB Local from scripts/setup; scripts/test runs it"]
async fn the_dynamodb_store_keeps_the_catalogue_as_the_memory_store_does() {
    let server = dynamodb_local();
    let store = dynamo(&server).await;
    let reference = script(&MemoryStore::new()).await;
    let dynamodb = script(&store).await;
    assert_eq!(dynamodb, reference);
    // The steps did what their names say.
    assert_eq!(reference[0], "create demo: Ok(true)");
    assert_eq!(reference[1], "create demo again: Ok(false)");
    assert_eq!(reference[2], "replace missing: Ok(false)");
    assert_eq!(reference[4], "replace trailer: Ok(true)");
    assert!(reference[5].contains("free: true"), "{}", reference[5]);
    assert_eq!(reference[6], "holdings: Ok(1)");
    assert!(reference[7].starts_with("snapshot title: Some(Title"));
    assert_eq!(reference[9], "unlisted title: None");
    assert_eq!(reference[10], "delete demo: Ok(true)");
    assert_eq!(reference[11], "delete demo again: Ok(false)");
    // The item in the table is DynamoDB's own shape: tiers a string set.
    let item = store
        .client()
        .get_item()
        .table_name("reelgate")
        .key("PK", AttributeValue::S("CATALOGUE".into()))
        .key("SK", AttributeValue::S("TITLE#trailer".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(item["free"], AttributeValue::Bool(true));
    assert!(!item.contains_key("tiers"));
}

#[tokio::test]
#[ignore = "needs DynamoDB Local from scripts/setup; scripts/test runs it"]
async fn a_hand_edited_title_is_reported_by_attribute_never_trusted() {
    let server = dynamodb_local();
    let store = dynamo(&server).await;
    store
        .put_title(&title("demo"), TitleWrite::Create)
        .await
        .unwrap();
    let edit = |attribute: &str, value: AttributeValue| {
        store
            .client()
            .update_item()
            .table_name("reelgate")
            .key("PK", AttributeValue::S("CATALOGUE".into()))
            .key("SK", AttributeValue::S("TITLE#demo".into()))
            .update_expression("SET #a = :v")
            .expression_attribute_names("#a", attribute)
            .expression_attribute_values(":v", value)
            .send()
    };
    edit(
        "tiers",
        AttributeValue::Ss(vec!["premium".into(), "a b".into()]),
    )
    .await
    .unwrap();
    match store.titles().await {
        Err(StoreError::Corrupt(error)) => assert_eq!(error.attribute, "tiers"),
        other => panic!("{other:?}"),
    }
    edit("tiers", AttributeValue::Ss(vec!["premium".into()]))
        .await
        .unwrap();
    edit("free", AttributeValue::Bool(true)).await.unwrap();
    let user = UserSub::parse("u-1").unwrap();
    match store
        .snapshot(
            &user,
            &VideoId::parse("demo").unwrap(),
            Consistency::Eventual,
        )
        .await
    {
        Err(StoreError::Corrupt(error)) => assert_eq!(error.attribute, "free"),
        other => panic!("a free title with a price must not be read: {other:?}"),
    }
}

async fn fixture() -> ApiOnDynamoDb {
    api_on_dynamodb(&[("REELGATE_CATALOGUE", "true")]).await
}

struct Reply {
    status: StatusCode,
    json: Value,
    content_type: String,
    cache_control: String,
}

async fn send(router: &axum::Router, request: Request<Body>) -> Reply {
    let (status, json, headers) = api::send(router, request).await;
    let header = |name: &str| {
        headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    Reply {
        status,
        json,
        content_type: header("content-type"),
        cache_control: header("cache-control"),
    }
}

fn with_body(method: &str, path: &str, token: &str, body: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

fn bare(method: &str, path: &str, token: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
#[ignore = "needs DynamoDB Local from scripts/setup; scripts/test runs it"]
async fn admins_write_the_catalogue_anyone_lists_it_and_bad_bodies_write_nothing() {
    let f = fixture().await;
    let t = now().get();
    let admin = tokens::access_token("ops", t, json!({"cognito:groups": ["admin"]}));
    let viewer = tokens::access_token("ivy", t, json!({}));
    let members = r#"{"id":"members","name":"Members","tiers":["premium","basic"]}"#;

    let refused = send(
        &f.router,
        with_body("POST", "/api/admin/titles", &viewer, members),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let created = send(
        &f.router,
        with_body("POST", "/api/admin/titles", &admin, members),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    assert_eq!(created.json["tiers"], json!(["basic", "premium"]));
    let again = send(
        &f.router,
        with_body("POST", "/api/admin/titles", &admin, members),
    )
    .await;
    assert_eq!(
        (again.status, again.json["reason"].as_str()),
        (StatusCode::CONFLICT, Some("title_exists"))
    );
    assert!(again.content_type.starts_with("application/problem+json"));

    for (body, reason) in [
        (r#"{"id":"x","name":""}"#, "invalid_name"),
        (r#"{"id":"x","name":"X","tiers":["a b"]}"#, "invalid_tier"),
        (r#"{"id":"x","name":"X","price":5}"#, "invalid_currency"),
        (
            r#"{"id":"x","name":"X","price":0,"currency":"usd"}"#,
            "invalid_price",
        ),
        (
            r#"{"id":"x","name":"X","free":true,"price":5,"currency":"usd"}"#,
            "free_title_priced",
        ),
        (
            r#"{"id":"x","name":"X","available_from":9,"available_until":9}"#,
            "invalid_window",
        ),
        (r#"{"id":"a/b","name":"X"}"#, "invalid_video_id"),
        (r#"{"name":"X"}"#, "invalid_body"),
        (r#"{"id":"x","name":"X","extra":1}"#, "invalid_body"),
        ("[", "invalid_body"),
    ] {
        let reply = send(
            &f.router,
            with_body("POST", "/api/admin/titles", &admin, body),
        )
        .await;
        assert_eq!(
            (reply.status, reply.json["reason"].as_str()),
            (StatusCode::BAD_REQUEST, Some(reason)),
            "{body}"
        );
    }
    let replaced = send(
        &f.router,
        with_body(
            "PUT",
            "/api/admin/titles/members",
            &admin,
            r#"{"name":"Members only","tiers":["premium"]}"#,
        ),
    )
    .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.json);
    let missing = send(
        &f.router,
        with_body("PUT", "/api/admin/titles/ghost", &admin, r#"{"name":"G"}"#),
    )
    .await;
    assert_eq!(
        (missing.status, missing.json["reason"].as_str()),
        (StatusCode::NOT_FOUND, Some("title_not_found"))
    );
    let mismatch = send(
        &f.router,
        with_body(
            "PUT",
            "/api/admin/titles/members",
            &admin,
            r#"{"id":"other","name":"G"}"#,
        ),
    )
    .await;
    assert_eq!(mismatch.json["reason"], "invalid_body");
    // A malformed id in a replace body is named, not ignored.
    let malformed = send(
        &f.router,
        with_body(
            "PUT",
            "/api/admin/titles/members",
            &admin,
            r#"{"id":"a/b","name":"G"}"#,
        ),
    )
    .await;
    assert_eq!(
        (malformed.status, malformed.json["reason"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_video_id"))
    );

    let listed = send(
        &f.router,
        Request::get("/api/titles").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.cache_control, "public, max-age=60");
    assert_eq!(
        listed.json,
        json!({"titles": [{"id": "members", "name": "Members only", "free": false, "tiers": ["premium"]}]})
    );
    assert_eq!(
        f.store.titles().await.unwrap().len(),
        1,
        "bad bodies wrote nothing"
    );

    let gone = send(
        &f.router,
        bare("DELETE", "/api/admin/titles/members", &admin),
    )
    .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let again = send(
        &f.router,
        bare("DELETE", "/api/admin/titles/members", &admin),
    )
    .await;
    assert_eq!(again.json["reason"], "title_not_found");
    let viewer_delete = send(
        &f.router,
        bare("DELETE", "/api/admin/titles/members", &viewer),
    )
    .await;
    assert_eq!(viewer_delete.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
#[ignore = "needs DynamoDB Local from scripts/setup; scripts/test runs it"]
async fn with_a_catalogue_the_api_decides_free_tier_window_and_unlisted_titles() {
    let f = fixture().await;
    let t = now().get();
    let mut closed = title("closed");
    closed.available_until = Some(EpochSeconds::new(t - 1));
    let mut basic_only = title("basic-only");
    basic_only.tiers = vec![Tier::parse("basic").unwrap()];
    for title in [free("trailer"), title("demo"), closed, basic_only] {
        assert!(f.store.put_title(&title, TitleWrite::Create).await.unwrap());
    }
    let subscriber = UserSub::parse("sam").unwrap();
    f.store
        .put_plan(
            &subscriber,
            Some(Plan {
                tier: "premium".into(),
                premium_until: EpochSeconds::new(t + 3600),
                max_devices: None,
            }),
        )
        .await
        .unwrap();
    let owner = UserSub::parse("olga").unwrap();
    f.store
        .put_grant(
            &owner,
            Grant {
                video: VideoId::parse("closed").unwrap(),
                source: GrantSource::Purchase,
                granted_at: EpochSeconds::new(t - 100),
                purchase_id: None,
                revoked_at: None,
            },
        )
        .await
        .unwrap();
    let ask = |who: &str, video: &str| {
        let token = tokens::access_token(who, t, json!({}));
        bare("GET", &format!("/api/videos/{video}/signed-url"), &token)
    };
    let cases = [
        ("nobody", "trailer", StatusCode::OK, None),
        (
            "nobody",
            "demo",
            StatusCode::FORBIDDEN,
            Some("not_entitled"),
        ),
        ("sam", "demo", StatusCode::OK, None),
        (
            "sam",
            "basic-only",
            StatusCode::FORBIDDEN,
            Some("not_in_tier"),
        ),
        (
            "olga",
            "closed",
            StatusCode::FORBIDDEN,
            Some("not_available"),
        ),
        (
            "sam",
            "unlisted",
            StatusCode::NOT_FOUND,
            Some("title_not_found"),
        ),
    ];
    for (who, video, status, reason) in cases {
        let reply = send(&f.router, ask(who, video)).await;
        assert_eq!(
            (reply.status, reply.json["reason"].as_str()),
            (status, reason),
            "{who} {video}: {}",
            reply.json
        );
    }
}
