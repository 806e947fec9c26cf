//! Catalogue titles: what a title is, who it is open to (free, plan tiers),
//! what it costs to buy or rent, and when it may be shown at all (the
//! licensing window). One rule set, checked once wherever a title enters:
//! the admin API's body and every item read from the store.

use serde::Serialize;

use crate::ids::{Tier, VideoId};
use crate::time::EpochSeconds;

/// Longest display name, in characters: a title card, not a synopsis.
pub const MAX_NAME_CHARS: usize = 200;
/// Most tiers one title may list; a handful exist in practice.
pub const MAX_TIERS: usize = 16;
/// Highest display price in minor units (100 000 000 = 1 000 000.00).
pub const MAX_PRICE: u64 = 100_000_000;

/// One catalogue title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Title {
    pub id: VideoId,
    pub name: String,
    /// Any signed-in viewer watches it (`basis` `free`).
    pub free: bool,
    /// The plan tiers that include it, sorted and without repeats: a plan
    /// of one of these tiers watches it.
    pub tiers: Vec<Tier>,
    /// Display price of a purchase, in minor units of `currency`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<u64>,
    /// Display price of a rental, in minor units of `currency`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rental_price: Option<u64>,
    /// ISO 4217 code in lower case (`usd`, Stripe's spelling); present
    /// exactly when a price is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Licensing window: nobody watches before `available_from` nor from
    /// `available_until` on, owners and plan holders included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available_from: Option<EpochSeconds>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available_until: Option<EpochSeconds>,
}

/// Why a title is refused; `reason` is the API's stable problem reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TitleError {
    #[error("name must be 1-{MAX_NAME_CHARS} characters without control characters")]
    InvalidName,
    #[error("tiers must be at most {MAX_TIERS} distinct [A-Za-z0-9][A-Za-z0-9_-]{{0,63}}")]
    InvalidTier,
    #[error("prices must be 1-{MAX_PRICE} minor units")]
    InvalidPrice,
    #[error("currency must be three lower-case letters, given exactly when a price is")]
    InvalidCurrency,
    #[error("a free title has no price")]
    FreeTitlePriced,
    #[error("available_from must be before available_until")]
    InvalidWindow,
}

impl TitleError {
    pub fn reason(self) -> &'static str {
        match self {
            Self::InvalidName => "invalid_name",
            Self::InvalidTier => "invalid_tier",
            Self::InvalidPrice => "invalid_price",
            Self::InvalidCurrency => "invalid_currency",
            Self::FreeTitlePriced => "free_title_priced",
            Self::InvalidWindow => "invalid_window",
        }
    }
}

impl Title {
    /// The title if it keeps every catalogue rule, with its tiers sorted.
    /// Repeated tiers are refused rather than merged: a typo'd list should
    /// be seen, not silently shortened.
    pub fn check(mut self) -> Result<Self, TitleError> {
        let chars = self.name.chars().count();
        if chars == 0 || chars > MAX_NAME_CHARS || self.name.chars().any(char::is_control) {
            return Err(TitleError::InvalidName);
        }
        self.tiers.sort();
        if self.tiers.len() > MAX_TIERS || self.tiers.windows(2).any(|w| w[0] == w[1]) {
            return Err(TitleError::InvalidTier);
        }
        let prices = [self.price, self.rental_price];
        if prices
            .iter()
            .flatten()
            .any(|price| !(1..=MAX_PRICE).contains(price))
        {
            return Err(TitleError::InvalidPrice);
        }
        let priced = prices.iter().any(Option::is_some);
        if self.free && priced {
            return Err(TitleError::FreeTitlePriced);
        }
        let currency_ok = match &self.currency {
            None => !priced,
            Some(code) => priced && code.len() == 3 && code.bytes().all(|b| b.is_ascii_lowercase()),
        };
        if !currency_ok {
            return Err(TitleError::InvalidCurrency);
        }
        if matches!(
            (self.available_from, self.available_until),
            (Some(from), Some(until)) if from >= until
        ) {
            return Err(TitleError::InvalidWindow);
        }
        Ok(self)
    }

    /// Inside the licensing window at `now`: `from <= now < until`.
    pub fn is_available(&self, now: EpochSeconds) -> bool {
        self.available_from.is_none_or(|from| from <= now)
            && self.available_until.is_none_or(|until| now < until)
    }

    /// Whether a plan of `tier` watches this title.
    pub fn in_tier(&self, tier: &str) -> bool {
        self.tiers.iter().any(|t| t.as_str() == tier)
    }

    /// `until` (the end of whatever entitles) cut at the window's end, so
    /// no cookie outlives the licence.
    pub fn cap(&self, until: Option<EpochSeconds>) -> Option<EpochSeconds> {
        match (until, self.available_until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn title(id: &str) -> Title {
        Title {
            id: VideoId::parse(id).unwrap(),
            name: "Demo".into(),
            free: false,
            tiers: vec![Tier::parse("premium").unwrap()],
            price: Some(499),
            rental_price: Some(199),
            currency: Some("usd".into()),
            available_from: None,
            available_until: None,
        }
    }

    fn refused(edit: impl FnOnce(&mut Title)) -> TitleError {
        let mut title = title("demo");
        edit(&mut title);
        title.check().unwrap_err()
    }

    #[test]
    fn a_paid_title_in_a_tier_is_valid_and_its_tiers_come_out_sorted() {
        let mut t = title("demo");
        t.tiers = vec![
            Tier::parse("premium").unwrap(),
            Tier::parse("basic").unwrap(),
        ];
        let tiers: Vec<String> = t
            .check()
            .unwrap()
            .tiers
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(tiers, ["basic", "premium"]);
    }

    #[test]
    fn each_broken_rule_is_named() {
        assert_eq!(refused(|t| t.name.clear()), TitleError::InvalidName);
        assert_eq!(refused(|t| t.name = "a\nb".into()), TitleError::InvalidName);
        assert_eq!(
            refused(|t| t.name = "x".repeat(MAX_NAME_CHARS + 1)),
            TitleError::InvalidName
        );
        assert_eq!(
            refused(|t| t.tiers.push(Tier::parse("premium").unwrap())),
            TitleError::InvalidTier
        );
        assert_eq!(refused(|t| t.price = Some(0)), TitleError::InvalidPrice);
        assert_eq!(
            refused(|t| t.rental_price = Some(MAX_PRICE + 1)),
            TitleError::InvalidPrice
        );
        assert_eq!(refused(|t| t.currency = None), TitleError::InvalidCurrency);
        assert_eq!(
            refused(|t| t.currency = Some("USD".into())),
            TitleError::InvalidCurrency
        );
        assert_eq!(refused(|t| t.free = true), TitleError::FreeTitlePriced);
        assert_eq!(
            refused(|t| {
                t.available_from = Some(EpochSeconds::new(10));
                t.available_until = Some(EpochSeconds::new(10));
            }),
            TitleError::InvalidWindow
        );
    }

    #[test]
    fn a_currency_without_a_price_is_refused() {
        assert_eq!(
            refused(|t| {
                t.price = None;
                t.rental_price = None;
            }),
            TitleError::InvalidCurrency
        );
    }

    #[test]
    fn the_window_includes_its_start_and_excludes_its_end() {
        let mut t = title("demo");
        t.available_from = Some(EpochSeconds::new(100));
        t.available_until = Some(EpochSeconds::new(200));
        assert!(!t.is_available(EpochSeconds::new(99)));
        assert!(t.is_available(EpochSeconds::new(100)));
        assert!(t.is_available(EpochSeconds::new(199)));
        assert!(!t.is_available(EpochSeconds::new(200)));
    }

    #[test]
    fn cap_cuts_at_the_window_s_end() {
        let mut t = title("demo");
        assert_eq!(t.cap(None), None);
        t.available_until = Some(EpochSeconds::new(50));
        assert_eq!(t.cap(None), Some(EpochSeconds::new(50)));
        assert_eq!(
            t.cap(Some(EpochSeconds::new(40))),
            Some(EpochSeconds::new(40))
        );
        assert_eq!(
            t.cap(Some(EpochSeconds::new(60))),
            Some(EpochSeconds::new(50))
        );
    }
}
