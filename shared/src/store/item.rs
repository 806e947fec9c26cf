//! A DynamoDB item without the SDK: the two attribute types the schema uses.
//! Numbers stay decimal strings, as DynamoDB sends them.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrValue {
    S(String),
    N(String),
}

pub type Item = BTreeMap<String, AttrValue>;
