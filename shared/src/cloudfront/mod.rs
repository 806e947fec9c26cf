//! cloudfront
