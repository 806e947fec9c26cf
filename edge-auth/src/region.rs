//! Which DynamoDB replica an edge location reads.
//!
//! Lambda@Edge runs in the regional edge cache region nearest the viewer
//! (`AWS_REGION` in the host). Reading that region's replica when there is
//! one, and otherwise the replica on the same continent, keeps the store
//! lookup short; the table's home region is the last resort.

/// The replica to read from `executing` region, or `None` when the table
/// has no replicas configured.
pub fn nearest_replica<'a>(executing: &str, replicas: &'a [String]) -> Option<&'a str> {
    read_order(executing, replicas).into_iter().next()
}

/// Every replica, nearest first: `executing` itself, then its continent,
/// then the fallback continent, then the rest in configured order (home
/// first). The host reads the signing-key secret in this order, so the
/// secret and the store are read by one rule (ARCHITECTURE §12).
pub fn read_order<'a>(executing: &str, replicas: &'a [String]) -> Vec<&'a str> {
    let home = continent(executing);
    // South America and the Middle East/Africa fall back to the nearest
    // large continent before the home region.
    let fallback = match home {
        "americas-south" => Some("americas-north"),
        "middle-east-africa" => Some("europe"),
        _ => None,
    };
    let rank = |region: &str| {
        if region == executing {
            0
        } else if continent(region) == home {
            1
        } else if Some(continent(region)) == fallback {
            2
        } else {
            3
        }
    };
    let mut order: Vec<&str> = replicas.iter().map(String::as_str).collect();
    // A stable sort keeps the configured order (home first) within a rank.
    order.sort_by_key(|region| rank(region));
    order
}

fn continent(region: &str) -> &'static str {
    match region.split('-').next().unwrap_or("") {
        "us" | "ca" | "mx" => "americas-north",
        "sa" => "americas-south",
        "eu" | "il" => "europe",
        "me" | "af" => "middle-east-africa",
        "ap" => "asia-pacific",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replicas() -> Vec<String> {
        ["us-east-1", "eu-west-1", "ap-southeast-1"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn a_replica_region_reads_itself() {
        assert_eq!(nearest_replica("eu-west-1", &replicas()), Some("eu-west-1"));
    }

    #[test]
    fn other_regions_read_their_continent_or_the_home_region() {
        assert_eq!(
            nearest_replica("eu-central-1", &replicas()),
            Some("eu-west-1")
        );
        assert_eq!(
            nearest_replica("ap-northeast-1", &replicas()),
            Some("ap-southeast-1")
        );
        assert_eq!(nearest_replica("sa-east-1", &replicas()), Some("us-east-1"));
        assert_eq!(
            nearest_replica("me-central-1", &replicas()),
            Some("eu-west-1")
        );
        assert_eq!(nearest_replica("us-west-2", &[]), None);
    }

    #[test]
    fn the_read_order_starts_with_the_nearest_and_keeps_every_replica() {
        assert_eq!(
            read_order("ap-northeast-1", &replicas()),
            ["ap-southeast-1", "us-east-1", "eu-west-1"]
        );
        assert_eq!(
            read_order("sa-east-1", &replicas()),
            ["us-east-1", "eu-west-1", "ap-southeast-1"]
        );
        assert_eq!(
            read_order("me-central-1", &replicas()),
            ["eu-west-1", "us-east-1", "ap-southeast-1"]
        );
        assert_eq!(
            read_order("eu-west-1", &replicas()),
            ["eu-west-1", "us-east-1", "ap-southeast-1"]
        );
    }
}
