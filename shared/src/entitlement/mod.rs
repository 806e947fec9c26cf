//! entitlement
