//! Which DynamoDB replica an edge location reads.
//!
//! Lambda@Edge runs in the regional edge cache region nearest the viewer
//! (`AWS_REGION` in the host). Reading that region's replica when there is
//! one, and otherwise the replica on the same continent, keeps the store
//! lookup short; the table's home region is the last resort.

/// The replica to read from `executing` region, or `None` when the table
/// has no replicas configured.
pub fn nearest_replica<'a>(executing: &str, replicas: &'a [String]) -> Option<&'a str> {
    if let Some(same) = replicas.iter().find(|r| *r == executing) {
        return Some(same);
    }
    let continent = |region: &str| -> &'static str {
        match region.split('-').next().unwrap_or("") {
            "us" | "ca" | "mx" => "americas-north",
            "sa" => "americas-south",
            "eu" | "il" => "europe",
            "me" | "af" => "middle-east-africa",
            "ap" => "asia-pacific",
            _ => "other",
        }
    };
    let home = continent(executing);
    replicas
        .iter()
        .find(|r| continent(r) == home)
        .or_else(|| {
            // South America and the Middle East/Africa fall back to the
            // nearest large continent before the home region.
            let fallback = match home {
                "americas-south" => "americas-north",
                "middle-east-africa" => "europe",
                _ => "",
            };
            replicas.iter().find(|r| continent(r) == fallback)
        })
        .or(replicas.first())
        .map(String::as_str)
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
}
