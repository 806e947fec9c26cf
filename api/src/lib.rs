//! reelgate-api
