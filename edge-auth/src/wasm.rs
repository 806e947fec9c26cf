//! WebAssembly entry points for the Node.js host (`js/index.mjs`).
//!
//! Plain C-ABI exports and JSON messages, no wasm-bindgen: the module stays
//! small and the shim stays readable. Crypto is imported from the host
//! (node:crypto `KeyObject`s made once per container), because pure-Rust
//! RSA in WebAssembly is ~16x slower (ARCHITECTURE §3).
//!
//! Protocol: the host copies a JSON message into memory from `alloc`, calls
//! an export with (ptr, len), and reads the JSON reply of the returned
//! length at `output_ptr()`.

use std::cell::RefCell;

use reelgate_shared::EpochSeconds;
use reelgate_shared::config::EdgeConfig;
use reelgate_shared::crypto::{
    CryptoError, JwsAlgorithm, JwsVerifier, KeyRing, KeySlot, PolicyHash, PolicySigner,
};
use reelgate_shared::jwt::Jwk;
use reelgate_shared::store::{AttrValue, Item, Snapshot, grant_from_item, plan_from_item};
use serde::{Deserialize, Serialize};

use crate::event::{Request, Response};
use crate::handler::{Edge, Fetch, Fetched, Outcome, error_response};
use crate::log::Decision;

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

struct HostCrypto;

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
}

/// Every reply the host can receive.
#[derive(Serialize)]
#[serde(untagged)]
enum Reply<'a> {
    Ready {
        ok: bool,
    },
    Failed {
        error: String,
    },
    Respond {
        respond: &'a Response,
        log: &'a Decision,
        /// Epoch seconds until which the host may replay `respond` to an
        /// identical request (`Decision::reusable_until`).
        #[serde(skip_serializing_if = "Option::is_none")]
        reuse_until: Option<u64>,
    },
    Fetch {
        fetch: &'a Fetch,
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
    /// Set by the bundle builder's check for a deploy build: apply
    /// `EdgeConfig::for_deployment`'s rules too.
    #[serde(default)]
    deploy: bool,
}

/// Validates the config and builds the edge. Reply: `{"ok": true}` or
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
    let config = if message.deploy {
        EdgeConfig::for_deployment(&message.config)
    } else {
        EdgeConfig::from_json(&message.config)
    };
    match config {
        Ok(config) => {
            EDGE.with(|edge| {
                *edge.borrow_mut() = Some(Edge::new(config, HostCrypto, message.region))
            });
            reply(&Reply::Ready { ok: true })
        }
        Err(e) => reply(&Reply::Failed {
            error: e.to_string(),
        }),
    }
}

/// What the host fetched: `items` on success, `error` (a short code) on failure.
#[derive(Deserialize)]
struct StoreReply {
    items: Option<Vec<Item>>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct JwksReply {
    body: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct FetchedMessage {
    entitlement: Option<StoreReply>,
    jwks: Option<JwksReply>,
}

#[derive(Deserialize)]
struct HandleMessage {
    request: Request,
    now: u64,
    #[serde(default)]
    fetched: Option<FetchedMessage>,
}

/// Turns the grant and plan items the host read into a snapshot. An item
/// that does not parse is a store failure: fail closed, never guess.
fn snapshot(items: &[Item]) -> Result<Snapshot, String> {
    let mut snapshot = Snapshot::default();
    for item in items {
        match item.get("SK") {
            Some(AttrValue::S(sk)) if sk == "PLAN" => {
                snapshot.plan = Some(plan_from_item(item).map_err(|e| e.to_string())?);
            }
            _ => snapshot.grant = Some(grant_from_item(item).map_err(|e| e.to_string())?),
        }
    }
    Ok(snapshot)
}

fn store_result(reply: StoreReply) -> Result<Snapshot, String> {
    match (reply.items, reply.error) {
        (Some(items), None) => snapshot(&items),
        (_, error) => Err(error.unwrap_or_else(|| "store_error".to_owned())),
    }
}

fn jwks_result(reply: JwksReply) -> Result<String, String> {
    match (reply.body, reply.error) {
        (Some(body), None) => Ok(body),
        (_, error) => Err(error.unwrap_or_else(|| "jwks_error".to_owned())),
    }
}

/// One step of a viewer request. Reply: `{"respond": <response>, "log": <decision>[, "reuse_until": <epoch s>]}`
/// or `{"fetch": <what to fetch>}`.
#[unsafe(no_mangle)]
pub extern "C" fn handle(ptr: *mut u8, len: usize) -> usize {
    let input = take_input(ptr, len);
    let message: HandleMessage = match serde_json::from_slice(&input) {
        Ok(message) => message,
        Err(_) => return refuse(400, "malformed_request"),
    };
    let fetched = message.fetched.map_or_else(Fetched::default, |f| Fetched {
        entitlement: f.entitlement.map(store_result),
        jwks: f.jwks.map(jwks_result),
    });
    EDGE.with(|edge| match edge.borrow_mut().as_mut() {
        None => refuse(503, "edge_not_initialized"),
        Some(edge) => match edge.handle(&message.request, EpochSeconds::new(message.now), &fetched)
        {
            Outcome::Respond(response, decision) => reply(&Reply::Respond {
                respond: &response,
                log: &decision,
                reuse_until: decision.reusable_until.map(EpochSeconds::get),
            }),
            Outcome::Fetch(fetch) => reply(&Reply::Fetch { fetch: &fetch }),
        },
    })
}

fn refuse(status: u16, reason: &'static str) -> usize {
    let mut decision = Decision::default();
    decision.deny(status, reason);
    reply(&Reply::Respond {
        respond: &error_response(status, reason),
        log: &decision,
        reuse_until: None,
    })
}
