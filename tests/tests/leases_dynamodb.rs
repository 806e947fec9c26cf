//! Device lease writes (`shared::store::leases`) executed by the DynamoDB
//! store against DynamoDB Local: the condition DynamoDB checks is the one
//! the in-memory store evaluates, and many devices racing for the slots of
//! one viewer never hold more than the limit.

use std::sync::Arc;

use reelgate_api::dynamo::DynamoStore;
use reelgate_shared::devices::{Admission, Device, DeviceLimit, Lease, admit};
use reelgate_shared::store::{
    LeaseQuery, LeaseStore, LeaseWrite, MemoryStore, claim_in_order, leases_from_items,
};
use reelgate_shared::{EpochSeconds, UserSub};
use reelgate_tests::{dynamodb_client, dynamodb_local};

fn user() -> UserSub {
    UserSub::parse("alice").unwrap()
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

fn release(name: &str, slot: u16) -> LeaseWrite {
    LeaseWrite::Release {
        user: user(),
        slot,
        device: device(name),
    }
}

/// A device's whole admission as the edge makes it: read, pick, claim in order.
async fn admit_device<S: LeaseStore>(store: &S, name: &str, limit: DeviceLimit, now: u64) -> bool {
    let items = store.leases(&LeaseQuery { user: user() }).await.unwrap();
    let leases = leases_from_items(&items).unwrap();
    let Admission::TrySlots(order) = admit(&leases, &device(name), limit, EpochSeconds::new(now))
    else {
        return false;
    };
    let writes: Vec<LeaseWrite> = order
        .into_iter()
        .map(|slot| claim(name, slot, now))
        .collect();
    claim_in_order(store, &writes).await.unwrap().is_some()
}

#[tokio::test]
async fn dynamodb_checks_the_same_conditions_as_the_memory_store() {
    let server = dynamodb_local();
    let dynamo = DynamoStore::new(dynamodb_client(&server.endpoint()).await, "reelgate");
    dynamo.create_table_if_missing().await.unwrap();
    let memory = MemoryStore::new();
    let steps = [
        (claim("phone", 0, 1000), true),
        (claim("tv", 0, 1000), false),
        (claim("phone", 0, 1100), true),
        (release("tv", 0), false),
        (claim("tv", 0, 1460), true),
        (release("tv", 0), true),
        (release("tv", 0), false),
    ];
    for (write, expected) in steps {
        let (d, m) = (
            dynamo.write_lease(&write).await.unwrap(),
            memory.write_lease(&write).await.unwrap(),
        );
        assert_eq!((d, m), (expected, expected), "{write:?}");
    }
    let query = LeaseQuery { user: user() };
    assert_eq!(
        dynamo.leases(&query).await.unwrap(),
        memory.leases(&query).await.unwrap()
    );
}

#[tokio::test]
async fn concurrent_devices_never_hold_more_slots_than_the_limit() {
    let server = dynamodb_local();
    let store = Arc::new(DynamoStore::new(
        dynamodb_client(&server.endpoint()).await,
        "reelgate",
    ));
    store.create_table_if_missing().await.unwrap();
    let limit = DeviceLimit::new(3).unwrap();
    for round in 0..5u64 {
        let now = 10_000 + round * 1_000;
        let tasks: Vec<_> = (0..12)
            .map(|n| {
                let store = store.clone();
                tokio::spawn(async move {
                    admit_device(&*store, &format!("dev-{round}-{n}"), limit, now).await
                })
            })
            .collect();
        let mut admitted = 0;
        for task in tasks {
            admitted += usize::from(task.await.unwrap());
        }
        let items = store.leases(&LeaseQuery { user: user() }).await.unwrap();
        let live: Vec<Lease> = leases_from_items(&items)
            .unwrap()
            .into_iter()
            .filter(|l| l.is_live(EpochSeconds::new(now)))
            .collect();
        assert_eq!(
            admitted, 3,
            "round {round}: every slot was lapsed, so exactly the limit wins"
        );
        assert_eq!(live.len(), 3);
        let mut devices: Vec<&str> = live.iter().map(|l| l.device.as_str()).collect();
        devices.sort_unstable();
        devices.dedup();
        assert_eq!(
            devices.len(),
            3,
            "three distinct devices hold the three slots"
        );
    }
}
