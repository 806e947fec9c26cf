//! The `AWS:SourceIp` condition: an IPv4 range in CIDR notation. CloudFront
//! policies take IPv4 only; a bare address means exactly that address (`/32`).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Cidr {
    addr: Ipv4Addr,
    prefix: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    #[error("not an IPv4 address (CloudFront policies accept IPv4 ranges only)")]
    BadAddress,
    #[error("prefix length must be a number from 0 to 32")]
    BadPrefix,
}

impl Ipv4Cidr {
    pub fn new(addr: Ipv4Addr, prefix: u8) -> Result<Self, CidrError> {
        if prefix > 32 {
            return Err(CidrError::BadPrefix);
        }
        Ok(Self { addr, prefix })
    }

    fn mask(self) -> u32 {
        if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.prefix))
        }
    }

    /// Host bits written in the range (`10.1.2.3/8`) are ignored, as a
    /// router would; an IPv6 client never matches an IPv4 range.
    pub fn contains(self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(v4) => (u32::from(v4) & self.mask()) == (u32::from(self.addr) & self.mask()),
            IpAddr::V6(v6) => v6
                .to_ipv4_mapped()
                .is_some_and(|v4| self.contains(IpAddr::V4(v4))),
        }
    }
}

impl FromStr for Ipv4Cidr {
    type Err = CidrError;

    fn from_str(s: &str) -> Result<Self, CidrError> {
        let (addr, prefix) = match s.split_once('/') {
            Some((addr, prefix)) => {
                if prefix.is_empty()
                    || prefix.len() > 2
                    || !prefix.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(CidrError::BadPrefix);
                }
                (addr, prefix.parse().map_err(|_| CidrError::BadPrefix)?)
            }
            None => (s, 32),
        };
        let addr = Ipv4Addr::from_str(addr).map_err(|_| CidrError::BadAddress)?;
        Self::new(addr, prefix)
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn bare_address_means_slash_32() {
        let cidr: Ipv4Cidr = "203.0.113.7".parse().unwrap();
        assert_eq!(cidr.to_string(), "203.0.113.7/32");
        assert!(cidr.contains(ip("203.0.113.7")));
        assert!(!cidr.contains(ip("203.0.113.8")));
    }

    #[test]
    fn ranges_match_by_prefix() {
        let cidr: Ipv4Cidr = "192.0.2.0/24".parse().unwrap();
        assert!(cidr.contains(ip("192.0.2.255")));
        assert!(!cidr.contains(ip("192.0.3.0")));
        assert!(
            "0.0.0.0/0"
                .parse::<Ipv4Cidr>()
                .unwrap()
                .contains(ip("8.8.8.8"))
        );
        assert!(cidr.contains(ip("::ffff:192.0.2.1")));
        assert!(!cidr.contains(ip("2001:db8::1")));
    }

    #[test]
    fn rejects_what_cloudfront_cannot_use() {
        for bad in [
            "",
            "1.2.3",
            "1.2.3.4/33",
            "1.2.3.4/",
            "1.2.3.4/-1",
            "2001:db8::/32",
            "a.b.c.d",
            "1.2.3.4/8/8",
        ] {
            assert!(bad.parse::<Ipv4Cidr>().is_err(), "{bad:?}");
        }
    }
}
