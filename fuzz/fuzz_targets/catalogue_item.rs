//! The catalogue item decoder (`shared::store::title_from_item`): a title
//! item as DynamoDB JSON, as the edge's host hands over what BatchGetItem
//! returned. What decodes keeps every catalogue rule, and writes back to an
//! item that decodes to the same title; the snapshot and catalogue readers
//! built on it never panic either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reelgate_shared::store::{
    Item, snapshot_from_items, title_from_item, title_item, titles_from_items,
};

fuzz_target!(|data: &[u8]| {
    let Ok(item) = serde_json::from_slice::<Item>(data) else {
        return;
    };
    let _ = snapshot_from_items([&item]);
    let _ = titles_from_items([&item, &item]);
    if let Ok(title) = title_from_item(&item) {
        assert_eq!(
            title.clone().check(),
            Ok(title.clone()),
            "a decoded title keeps the rules"
        );
        assert_eq!(
            title_from_item(&title_item(&title)),
            Ok(title),
            "what decodes writes back to the same title"
        );
    }
});
