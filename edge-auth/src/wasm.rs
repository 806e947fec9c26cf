//! WebAssembly entry points for the Node.js host (`js/index.mjs`).
//!
//! Plain C-ABI exports, no wasm-bindgen: the module stays small and the
//! shim stays readable. Crypto is imported from the host
//! (node:crypto `KeyObject`s made once per container), because pure-Rust
//! RSA in WebAssembly is ~16x slower (ARCHITECTURE §3).
//!
//! Protocol: a request starts with `handle`, given the viewer request in
//! the flat layout of [`crate::boundary`], written by the host into the
//! buffer from `input`. The reply of the returned length at `output_ptr()`
//! is either an answer in that flat layout or a JSON message naming a
//! fetch; the host performs the fetch and calls `resume` with the result as
//! JSON (copied into memory from `alloc`), which replies the same way.
//! `init` takes and gives JSON too. The loop's state and its decisions
//! ([`Exchange`]) stay on this side.

use std::cell::RefCell;
use std::collections::BTreeMap;

use reelgate_shared::EpochSeconds;
use reelgate_shared::config::EdgeConfig;
use reelgate_shared::crypto::{
    CryptoError, JwsAlgorithm, JwsVerifier, KeyRing, KeySlot, PolicyHash, PolicySigner,
};
use reelgate_shared::jwt::Jwk;
use reelgate_shared::store::{Item, leases_from_items, snapshot_from_items};
use serde::{Deserialize, Serialize};

use crate::boundary::{read_request, write_answer};
use crate::cache::HashKey;
use crate::driver::{Exchange, refused};
use crate::edge::Edge;
use crate::error::EdgeError;
use crate::region::read_order;
use crate::step::{Answer, Fetch, FetchResult, Step};

#[link(wasm_import_module = "host")]
unsafe extern "C" {
    /// Signs `policy` with the configured key (`slot` 0) or the staged next
    /// key (`slot` 1); writes the raw signature to `out` and returns its
    /// length, or a negative number on failure.
    fn sign_policy(
        slot: u32,
        policy: *const u8,
        policy_len: usize,
        sha256: u32,
        out: *mut u8,
        out_cap: usize,
    ) -> i32;
    /// Makes the host's key for `kid` the JWK whose JSON is at `jwk`
    /// (replacing any earlier one); 0 on success, negative if the host
    /// cannot load it. The core calls it only with keys of a JWKS it
    /// accepted, before the first verification with that key.
    fn install_key(kid: *const u8, kid_len: usize, jwk: *const u8, jwk_len: usize) -> i32;
    /// 1 if the JWK `kid` signed `input` (`alg` 0 = RS256, 1 = ES256), 0 if not, -1 if the host has no such key.
    fn verify_jws(
        alg: u32,
        kid: *const u8,
        kid_len: usize,
        input: *const u8,
        input_len: usize,
        sig: *const u8,
        sig_len: usize,
    ) -> i32;
}

/// node:crypto through host imports. The host holds a key object only for
/// a JWK the core handed it, so it never holds a key set the core refused.
struct HostCrypto {
    /// The JWKs the host holds, as last installed.
    installed: RefCell<Vec<Jwk>>,
}

impl HostCrypto {
    fn ensure_installed(&self, key: &Jwk) -> Result<(), CryptoError> {
        if self.installed.borrow().contains(key) {
            return Ok(());
        }
        let json = serde_json::to_vec(key).map_err(|_| CryptoError::UnusableKey("JWK"))?;
        // SAFETY: both buffers are live for the call and their lengths are passed alongside.
        let status =
            unsafe { install_key(key.kid.as_ptr(), key.kid.len(), json.as_ptr(), json.len()) };
        let mut installed = self.installed.borrow_mut();
        installed.retain(|k| k.kid != key.kid);
        if status != 0 {
            return Err(CryptoError::UnusableKey("the host cannot load this JWK"));
        }
        installed.push(key.clone());
        Ok(())
    }
}

impl PolicySigner for HostCrypto {
    fn sign_policy(&self, policy: &[u8], hash: PolicyHash) -> Result<Vec<u8>, CryptoError> {
        self.sign_policy_in(KeySlot::Current, policy, hash)
    }
}

impl KeyRing for HostCrypto {
    fn sign_policy_in(
        &self,
        slot: KeySlot,
        policy: &[u8],
        hash: PolicyHash,
    ) -> Result<Vec<u8>, CryptoError> {
        let mut out = vec![0u8; 1024];
        let sha256 = u32::from(hash == PolicyHash::Sha256);
        let slot = u32::from(slot == KeySlot::Next);
        // SAFETY: both buffers are live for the call and their lengths are passed alongside.
        let len = unsafe {
            sign_policy(
                slot,
                policy.as_ptr(),
                policy.len(),
                sha256,
                out.as_mut_ptr(),
                out.len(),
            )
        };
        let len = usize::try_from(len).map_err(|_| CryptoError::NoSigningKey)?;
        out.truncate(len.min(1024));
        Ok(out)
    }
}

impl JwsVerifier for HostCrypto {
    fn verify_jws(
        &self,
        alg: JwsAlgorithm,
        key: &Jwk,
        input: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        self.ensure_installed(key)?;
        let alg = match alg {
            JwsAlgorithm::Rs256 => 0,
            JwsAlgorithm::Es256 => 1,
        };
        // SAFETY: all buffers are live for the call and their lengths are passed alongside.
        let verdict = unsafe {
            verify_jws(
                alg,
                key.kid.as_ptr(),
                key.kid.len(),
                input.as_ptr(),
                input.len(),
                signature.as_ptr(),
                signature.len(),
            )
        };
        match verdict {
            1 => Ok(()),
            0 => Err(CryptoError::BadSignature),
            _ => Err(CryptoError::UnusableKey(
                "host has no key object for this kid",
            )),
        }
    }
}

thread_local! {
    static EDGE: RefCell<Option<Edge<HostCrypto>>> = const { RefCell::new(None) };
    static OUTPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// Where the host writes the next request (`input`, then `handle`).
    static INPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// Requests waiting for the host's I/O, by the id the host resumes with.
    static EXCHANGES: RefCell<Exchanges> = const { RefCell::new(Exchanges { next: 0, waiting: BTreeMap::new() }) };
}

/// A host that abandons requests (an exception mid-fetch) cannot make this
/// grow: past this many the oldest is dropped, and resuming it fails closed.
const MAX_WAITING: usize = 64;

struct Exchanges {
    next: u32,
    waiting: BTreeMap<u32, Exchange>,
}

impl Exchanges {
    fn park(&mut self, exchange: Exchange) -> u32 {
        if self.waiting.len() >= MAX_WAITING {
            self.waiting.pop_first();
        }
        let id = self.next;
        self.next = self.next.wrapping_add(1);
        self.waiting.insert(id, exchange);
        id
    }
}

/// Every JSON reply the host can receive (answers use the flat layout).
#[derive(Serialize)]
#[serde(untagged)]
enum Reply<'a> {
    Ready {
        ok: bool,
        /// The replica regions nearest first (`region::read_order`): where
        /// the host reads the signing-key secret, by the store's rule.
        read_regions: Vec<String>,
    },
    Failed {
        error: String,
    },
    Fetch {
        fetch: &'a Fetch,
        /// The id to `resume` this request with.
        exchange: u32,
    },
}

fn reply(value: &Reply<'_>) -> usize {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    let len = bytes.len();
    OUTPUT.with(|out| *out.borrow_mut() = bytes);
    len
}

/// # Safety
/// The host must copy exactly `len` bytes into the returned buffer and pass
/// it back to one export, which takes ownership.
#[unsafe(no_mangle)]
pub extern "C" fn alloc(len: usize) -> *mut u8 {
    let mut buffer = Vec::<u8>::with_capacity(len);
    let ptr = buffer.as_mut_ptr();
    std::mem::forget(buffer);
    ptr
}

/// A buffer of `cap` bytes for the next `handle`'s request, reused from
/// one request to the next.
#[unsafe(no_mangle)]
pub extern "C" fn input(cap: usize) -> *mut u8 {
    INPUT.with(|input| {
        let mut input = input.borrow_mut();
        input.clear();
        input.resize(cap, 0);
        input.as_mut_ptr()
    })
}

#[unsafe(no_mangle)]
pub extern "C" fn output_ptr() -> *const u8 {
    OUTPUT.with(|out| out.borrow().as_ptr())
}

/// Takes back a buffer from `alloc` holding `len` bytes of input.
fn take_input(ptr: *mut u8, len: usize) -> Vec<u8> {
    // SAFETY: `ptr` came from `alloc(len)` and the host wrote `len` bytes.
    unsafe { Vec::from_raw_parts(ptr, len, len) }
}

#[derive(Deserialize)]
struct InitMessage {
    /// The config document as text, validated by `EdgeConfig::from_json`.
    config: String,
    region: String,
    /// 32 hex digits of the host's randomness, for the caches' hashes
    /// ([`HashKey`]); required, since this module has no entropy of its own.
    hash_key: String,
    /// Set by the bundle builder's check for a deploy build: apply
    /// `EdgeConfig::for_deployment`'s rules too.
    #[serde(default)]
    deploy: bool,
}

/// Validates the config and builds the edge. Reply: `{"ok": true,
/// "read_regions": ["<nearest replica>", …]}` or
/// `{"error": "<field and problem>"}`.
#[unsafe(no_mangle)]
pub extern "C" fn init(ptr: *mut u8, len: usize) -> usize {
    let input = take_input(ptr, len);
    let message: InitMessage = match serde_json::from_slice(&input) {
        Ok(message) => message,
        Err(e) => {
            return reply(&Reply::Failed {
                error: format!("init message: {e}"),
            });
        }
    };
    let Some(hash_key) = HashKey::from_hex(&message.hash_key) else {
        return reply(&Reply::Failed {
            error: "init message: hash_key must be 32 hex digits".to_owned(),
        });
    };
    let config = if message.deploy {
        EdgeConfig::for_deployment(&message.config)
    } else {
        EdgeConfig::from_json(&message.config)
    };
    match config {
        Ok(config) => {
            let read_regions = read_order(&message.region, &config.table.replica_regions)
                .into_iter()
                .map(str::to_owned)
                .collect();
            EDGE.with(|edge| {
                let crypto = HostCrypto {
                    installed: RefCell::new(Vec::new()),
                };
                *edge.borrow_mut() = Some(Edge::new(config, crypto, message.region, hash_key))
            });
            reply(&Reply::Ready {
                ok: true,
                read_regions,
            })
        }
        Err(e) => reply(&Reply::Failed {
            error: e.to_string(),
        }),
    }
}

/// The result of the fetch a reply named: `items` (a store read), `body`
/// (a JWKS document), or `error` (a short code) when it failed.
#[derive(Deserialize)]
struct ResumeMessage {
    exchange: u32,
    now: u64,
    items: Option<Vec<Item>>,
    body: Option<String>,
    error: Option<String>,
    /// A lease write: the index of the write whose condition held, or
    /// `refused: true` when none did.
    claimed: Option<usize>,
    #[serde(default)]
    refused: bool,
}

/// One viewer request: the first `len` bytes of the `input` buffer, at
/// `now` (epoch seconds). Reply: an answer in the flat layout, or
/// `{"fetch": <what to fetch>, "exchange": <id>}`.
#[unsafe(no_mangle)]
pub extern "C" fn handle(len: usize, now: f64) -> usize {
    let request = INPUT.with(|input| input.borrow().get(..len).and_then(read_request));
    // `as` saturates: NaN and negatives are 0, which no token is valid at.
    match request {
        Some(request) => advance(Exchange::new(request), now as u64),
        None => answer(&refused(&EdgeError::MalformedRequest)),
    }
}

/// The result of the fetch named by the reply for `exchange`. Reply: as `handle`'s.
#[unsafe(no_mangle)]
pub extern "C" fn resume(ptr: *mut u8, len: usize) -> usize {
    let input = take_input(ptr, len);
    let Ok(message) = serde_json::from_slice::<ResumeMessage>(&input) else {
        return answer(&refused(&EdgeError::MalformedRequest));
    };
    let Some(mut exchange) = EXCHANGES.with(|x| x.borrow_mut().waiting.remove(&message.exchange))
    else {
        return answer(&refused(&EdgeError::ExchangeLost));
    };
    let pending = exchange.pending().cloned();
    match (pending, message.error, message.items, message.body) {
        (_, Some(error), _, _) => exchange.fail(error),
        (Some(Fetch::Leases { .. }), None, Some(items), _) => {
            exchange.record(FetchResult::Leases(
                leases_from_items(&items).map_err(|e| e.to_string()),
            ));
        }
        (Some(Fetch::Lease { writes, .. }), None, _, _)
            if message.refused || message.claimed.is_some_and(|i| i < writes.len()) =>
        {
            exchange.record(FetchResult::Lease(Ok(message.claimed)));
        }
        (Some(Fetch::Entitlement { .. }), None, Some(items), _) => {
            exchange.record(FetchResult::Entitlement(
                snapshot_from_items(&items)
                    .map(Box::new)
                    .map_err(|e| e.to_string()),
            ));
        }
        (Some(Fetch::Jwks { .. }), None, _, Some(body)) => {
            exchange.record(FetchResult::Jwks(Ok(body)))
        }
        _ => exchange.fail("fetch_result_missing".to_owned()),
    }
    advance(exchange, message.now)
}

/// Runs the core one step for `exchange`: its answer, or parks the
/// exchange and names the fetch.
fn advance(mut exchange: Exchange, now: u64) -> usize {
    EDGE.with(|edge| match edge.borrow_mut().as_mut() {
        None => answer(&refused(&EdgeError::NotInitialized)),
        Some(edge) => match exchange.step(edge, EpochSeconds::new(now)) {
            Step::Ready(done) => answer(&done),
            Step::Fetch(fetch) => {
                let id = EXCHANGES.with(|x| x.borrow_mut().park(exchange));
                reply(&Reply::Fetch {
                    fetch: &fetch,
                    exchange: id,
                })
            }
        },
    })
}

fn answer(answer: &Answer) -> usize {
    OUTPUT.with(|out| {
        let mut out = out.borrow_mut();
        write_answer(answer, &mut out);
        out.len()
    })
}
