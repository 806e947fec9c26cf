//! The local stack's catalogue (ARCHITECTURE §12): one title item per media
//! folder, seeded into the store. `intro` is free, `members` is in the
//! premium tier only (no price: a plan is the only way in), and every other
//! title is paid (purchase or rental) and in the premium tier, as the demo
//! users expect: bob owns `demo`, alice's premium plan watches it.

use reelgate_shared::VideoId;
use reelgate_shared::entitlement::{DEFAULT_TIER, Title};
use reelgate_shared::ids::Tier;

/// The free title of the demo catalogue.
pub const FREE_TITLE: &str = "intro";
/// The title only the premium tier watches.
pub const TIER_TITLE: &str = "members";

/// The catalogue item of the media folder `id` named `name`.
pub fn demo_title(id: &VideoId, name: &str) -> Title {
    let premium = Tier::parse(DEFAULT_TIER).expect("the default tier is a valid tier");
    let paid = |price, rental| (Some(price), Some(rental), Some("usd".to_owned()));
    let (free, tiers, (price, rental_price, currency)) = match id.as_str() {
        FREE_TITLE => (true, vec![], (None, None, None)),
        TIER_TITLE => (false, vec![premium], (None, None, None)),
        _ => (false, vec![premium], paid(499, 199)),
    };
    Title {
        id: id.clone(),
        name: name.to_owned(),
        free,
        tiers,
        price,
        rental_price,
        currency,
        available_from: None,
        available_until: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_title_keeps_the_catalogue_rules() {
        for id in [FREE_TITLE, TIER_TITLE, "demo"] {
            let title = demo_title(&VideoId::parse(id).unwrap(), "A title");
            assert_eq!(title.clone().check(), Ok(title));
        }
    }
}
