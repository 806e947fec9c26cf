//! reelgate-tests
