//! `Resource` matching: `*` matches any run of characters (also none) and
//! `?` exactly one, over the whole URL, scheme and query string included.

/// Linear-space glob matching with single-star backtracking, so a hostile
/// pattern like `*a*a*a*b` cannot blow up.
pub fn matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn star_matches_any_run_including_empty() {
        assert!(matches(
            "https://d.net/videos/demo/*",
            "https://d.net/videos/demo/seg1.ts"
        ));
        assert!(matches(
            "https://d.net/videos/demo/*",
            "https://d.net/videos/demo/"
        ));
        assert!(matches(
            "https://d.net/videos/demo/*",
            "https://d.net/videos/demo/a/b?x=1"
        ));
        assert!(!matches(
            "https://d.net/videos/demo/*",
            "https://d.net/videos/demo2/seg1.ts"
        ));
        assert!(matches("*", ""));
        assert!(matches("*.ts", "https://d.net/x.ts"));
    }

    #[test]
    fn question_mark_matches_exactly_one() {
        assert!(matches("https://d.net/seg?.ts", "https://d.net/seg1.ts"));
        assert!(!matches("https://d.net/seg?.ts", "https://d.net/seg.ts"));
        assert!(!matches("https://d.net/seg?.ts", "https://d.net/seg12.ts"));
    }

    #[test]
    fn without_wildcards_it_is_equality() {
        assert!(matches("https://d.net/a", "https://d.net/a"));
        assert!(!matches("https://d.net/a", "https://d.net/a?x"));
        assert!(!matches("https://d.net/a", "https://d.net/"));
    }

    #[test]
    fn pathological_patterns_finish() {
        let text = "a".repeat(2000);
        assert!(!matches(&format!("{}b", "*a".repeat(50)), &text));
    }
}
