//! CloudFront key pairs: PEM parsing (RSA PKCS#1/PKCS#8, EC SEC1/PKCS#8) and generation.
