//! A DynamoDB item without the SDK, in DynamoDB's JSON shape
//! (`{"S": "..."}`, `{"N": "123"}`), so the edge host can hand over what the
//! JavaScript SDK returned and the API can convert SDK values one to one.
//! Numbers stay decimal strings, as DynamoDB sends them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttrValue {
    S(String),
    N(String),
    /// Not written by reelgate; accepted so an operator's extra flag does
    /// not make an item unreadable.
    #[serde(rename = "BOOL")]
    Bool(bool),
    #[serde(rename = "NULL")]
    Null(bool),
    /// A string set: a catalogue title's tiers (DynamoDB refuses an empty
    /// set, so an empty list is an absent attribute).
    #[serde(rename = "SS")]
    Ss(Vec<String>),
}

pub type Item = BTreeMap<String, AttrValue>;
