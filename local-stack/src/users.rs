//! The demo accounts of ARCHITECTURE §9 (password `demo-password`):
//! alice holds a premium plan, bob owns `demo`, carol holds nothing, and
//! `admin` is in the admin group that the premium-user service requires.

use reelgate_shared::devices::DeviceLimit;
use reelgate_shared::{UserSub, VideoId};

pub const PASSWORD: &str = "demo-password";

#[derive(Debug, Clone)]
pub struct DemoUser {
    pub username: String,
    pub sub: UserSub,
    pub password: String,
    pub groups: Vec<String>,
    /// Seeded with a year of premium plan.
    pub premium: bool,
    /// Seeded purchases.
    pub owns: Vec<VideoId>,
    /// The seeded plan's `max_devices` (alice: 2, ARCHITECTURE §12).
    pub max_devices: Option<DeviceLimit>,
}

fn user(username: &str, sub: &str, premium: bool, owns: &[&str]) -> DemoUser {
    DemoUser {
        username: username.to_owned(),
        sub: UserSub::parse(sub).expect("demo subs are valid"),
        password: PASSWORD.to_owned(),
        groups: Vec::new(),
        premium,
        owns: owns
            .iter()
            .map(|v| VideoId::parse(v).expect("demo ids are valid"))
            .collect(),
        max_devices: None,
    }
}

pub fn demo_users() -> Vec<DemoUser> {
    vec![
        DemoUser {
            max_devices: DeviceLimit::new(2).ok(),
            ..user("alice", "a11ce000-0000-4000-8000-000000000001", true, &[])
        },
        user(
            "bob",
            "b0b00000-0000-4000-8000-000000000002",
            false,
            &["demo"],
        ),
        user("carol", "ca201000-0000-4000-8000-000000000003", false, &[]),
        DemoUser {
            groups: vec!["admin".to_owned()],
            ..user("admin", "ad000000-0000-4000-8000-000000000004", false, &[])
        },
    ]
}

/// What the banner says each user can watch.
pub fn describe(user: &DemoUser) -> String {
    if user.groups.iter().any(|g| g == "admin") {
        return "admin group: the premium-user service at /api/admin/users/*".to_owned();
    }
    match (user.premium, user.owns.as_slice()) {
        (true, _) => match user.max_devices {
            Some(limit) => format!("premium plan: every title, on {limit} devices at once"),
            None => "premium plan: every title".to_owned(),
        },
        (false, []) => "nothing yet: try the Buy button".to_owned(),
        (false, owns) => format!(
            "owns {}",
            owns.iter()
                .map(VideoId::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
