//! reelgate-edge
