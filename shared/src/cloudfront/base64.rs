//! CloudFront's base64: standard alphabet with padding, then `+`→`-`,
//! `=`→`_`, `/`→`~`, so the value survives a query string and a cookie
//! without percent-encoding.

use base64::Engine;
use base64::alphabet::Alphabet;
use base64::engine::general_purpose::{GeneralPurpose, PAD, STANDARD};

/// The standard alphabet with CloudFront's `-` and `~` in place of `+` and
/// `/`, so encoding needs no pass over the text afterwards (it runs for
/// every signed cookie at the edge).
const CLOUDFRONT: GeneralPurpose = GeneralPurpose::new(
    &match Alphabet::new("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-~") {
        Ok(alphabet) => alphabet,
        Err(_) => panic!("the CloudFront alphabet is 64 distinct ASCII characters"),
    },
    PAD,
);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not valid CloudFront base64")]
pub struct Base64Error;

pub fn encode(bytes: &[u8]) -> String {
    let mut text = CLOUDFRONT.encode(bytes);
    // Padding is always `=` in the engine; CloudFront writes it `_`.
    let unpadded = text.trim_end_matches('=').len();
    let pads = text.len() - unpadded;
    text.truncate(unpadded);
    text.extend(std::iter::repeat_n('_', pads));
    text
}

pub fn decode(text: &str) -> Result<Vec<u8>, Base64Error> {
    let standard: String = text
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '=',
            '~' => '/',
            c => c,
        })
        .collect();
    STANDARD.decode(standard).map_err(|_| Base64Error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_three_url_unsafe_characters() {
        // 0xfb 0xff → "+/8=" in standard base64.
        assert_eq!(encode(&[0xfb, 0xff]), "-~8_");
        assert_eq!(decode("-~8_").unwrap(), vec![0xfb, 0xff]);
    }

    #[test]
    fn round_trips_every_byte_value() {
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(decode(&encode(&all)).unwrap(), all);
    }

    #[test]
    fn matches_the_character_mapping_of_standard_base64() {
        for len in 0..70u8 {
            let bytes: Vec<u8> = (0..len)
                .map(|i| i.wrapping_mul(97).wrapping_add(len))
                .collect();
            let mapped: String = STANDARD
                .encode(&bytes)
                .chars()
                .map(|c| match c {
                    '+' => '-',
                    '=' => '_',
                    '/' => '~',
                    c => c,
                })
                .collect();
            assert_eq!(encode(&bytes), mapped, "{len} bytes");
        }
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(decode("not base64!"), Err(Base64Error));
        assert_eq!(decode("abc"), Err(Base64Error));
    }
}
