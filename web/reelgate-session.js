// reelgate-session.js: the viewer side of reelgate's session protocol, as an
// ES module with no build step (types: reelgate-session.d.ts beside it).
//
//   import { createSession } from "/reelgate-session.js";
//   const session = createSession(await (await fetch("/config.json")).json());
//   await session.signIn("bob", "demo-password");
//   const playback = await session.play(videoElement, "demo");
//   await playback.stop();
//   await session.signOut();
//
// What it does for the app: signs in with Cognito (USER_PASSWORD_AUTH or the
// Hosted UI with PKCE), refreshes the access token before it expires, asks
// the edge for a title's signed cookies (GET /session/videos/{id}), attaches
// hls.js (window.Hls) or the browser's native HLS, and re-asks for cookies
// before they expire for as long as the playback lives. Times come from the
// server as relative seconds, so a wrong device clock does not matter.
//
// Failures are ReelgateError instances with a stable `.reason`; the module
// never logs and never puts a token anywhere but the Authorization header.

/** The shortest pause between two requests of one loop: never busier than once a second. */
const MIN_INTERVAL_MS = 1000;
/** The longest back-off after failures. */
const MAX_BACKOFF_MS = 30_000;
/** Attempts of one session request answered 503 before giving up. */
const UNAVAILABLE_ATTEMPTS = 3;
/** Fatal player errors recovered in a row before the playback reports one. */
const MAX_RECOVERIES = 5;

/** An error with a stable machine-readable `reason` (see docs/protocol.md). */
export class ReelgateError extends Error {
  /**
   * @param {string} reason
   * @param {string} message
   * @param {{status?: number, retryAfter?: number, cause?: unknown, recoverable?: boolean}} [details]
   */
  constructor(reason, message, details = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "ReelgateError";
    this.reason = reason;
    this.status = details.status;
    this.retryAfter = details.retryAfter;
    this.recoverable = details.recoverable ?? false;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const monotonic = () => performance.now();

/** @param {unknown} value @param {string} field */
function requireString(value, field) {
  if (typeof value !== "string" || value.length === 0) {
    throw new ReelgateError("invalid_config", `config: ${field} must be a non-empty string`);
  }
  return value;
}

function resolveUrl(value, field) {
  try {
    return new URL(value, globalThis.location?.href).href;
  } catch (cause) {
    throw new ReelgateError("invalid_config", `config: ${field} is not a URL`, { cause });
  }
}

/** Validates the page's config.json (shape in docs/protocol.md). */
function parseConfig(config) {
  if (!config || typeof config !== "object") throw new ReelgateError("invalid_config", "config must be an object");
  const cognito = config.cognito;
  if (!cognito || typeof cognito !== "object") throw new ReelgateError("invalid_config", "config: cognito is missing");
  const clientId = requireString(cognito.client_id, "cognito.client_id");
  const endpoint = cognito.endpoint == null ? null : resolveUrl(requireString(cognito.endpoint, "cognito.endpoint"), "cognito.endpoint");
  let hostedUi = null;
  if (cognito.hosted_ui != null) {
    const h = cognito.hosted_ui;
    hostedUi = {
      domain: resolveUrl(requireString(h.domain, "cognito.hosted_ui.domain"), "cognito.hosted_ui.domain").replace(/\/$/, ""),
      redirectUri: resolveUrl(requireString(h.redirect_uri, "cognito.hosted_ui.redirect_uri"), "cognito.hosted_ui.redirect_uri"),
      scopes: Array.isArray(h.scopes) ? h.scopes.map((s, i) => requireString(s, `cognito.hosted_ui.scopes[${i}]`)) : ["openid"],
    };
  }
  if (!endpoint && !hostedUi) throw new ReelgateError("invalid_config", "config: cognito needs an endpoint or a hosted_ui");
  const base = (value, field) => {
    if (value != null && value !== "") return resolveUrl(requireString(value, field), field).replace(/\/$/, "");
    if (!globalThis.location) throw new ReelgateError("invalid_config", `config: ${field} is required outside a web page`);
    return globalThis.location.origin;
  };
  return { clientId, endpoint, hostedUi, edge: base(config.edge, "edge") };
}

/** Seconds from a `Retry-After` header (seconds or an HTTP date against the response's `Date`). */
function retryAfterSeconds(response) {
  const value = response.headers.get("retry-after");
  if (!value) return 1;
  if (/^\d+$/.test(value.trim())) return Number(value);
  const at = Date.parse(value);
  const now = Date.parse(response.headers.get("date") ?? "");
  return Number.isFinite(at) && Number.isFinite(now) ? Math.max(1, (at - now) / 1000) : 1;
}

const clampMs = (seconds) => Math.min(Math.max(seconds * 1000, MIN_INTERVAL_MS), 24 * 3600 * 1000);

/**
 * When to re-ask and when the cookies lapse, in seconds from now: the
 * relative fields when the edge sends them, else the absolute ones minus the
 * response's `Date` (both the server's clock), else the device clock.
 */
export function sessionTimes(body, dateHeader) {
  const relative = (value) => (Number.isFinite(value) && value >= 0 ? value : null);
  const serverNow = Date.parse(dateHeader ?? "") / 1000;
  const now = Number.isFinite(serverNow) ? serverNow : Date.now() / 1000;
  const expiresIn = relative(body.expires_in) ?? Math.max(0, body.expires_at - now);
  const refreshIn = relative(body.refresh_in) ?? Math.max(0, Math.min(body.refresh_after - now, expiresIn));
  if (!Number.isFinite(expiresIn) || !Number.isFinite(refreshIn)) {
    throw new ReelgateError("bad_response", "the session response has no usable times");
  }
  return { expiresIn, refreshIn };
}

/** When to refresh an access token that lives `lifetime` seconds: a quarter early, at most 5 minutes. */
const tokenRefreshIn = (lifetime) => lifetime - Math.min(lifetime / 4, 300);

function base64url(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const randomString = () => base64url(crypto.getRandomValues(new Uint8Array(32)));

/** hls.js settings for a playlist on another origin: send the cookies with every request. */
export function hlsConfig(crossOrigin) {
  if (!crossOrigin) return {};
  return {
    xhrSetup(xhr) {
      xhr.withCredentials = true;
    },
    fetchSetup(context, init) {
      return new Request(context.url, { ...init, credentials: "include" });
    },
  };
}

/**
 * @param {object} config the page's config.json
 * @returns {Session}
 */
export function createSession(config) {
  return new Session(parseConfig(config));
}

export class Session extends EventTarget {
  #config;
  #tokens = null; // { access, refresh, lifetime, obtainedAt, hosted }
  #refreshing = null;
  #tokenTimer = null;
  #playbacks = new Set();
  #onVisible = () => {
    if (document.visibilityState !== "visible" || !this.#tokens) return;
    if (monotonic() - this.#tokens.obtainedAt >= tokenRefreshIn(this.#tokens.lifetime) * 1000) {
      this.refreshTokens().catch(() => {});
    }
    for (const playback of this.#playbacks) playback.recheck();
  };

  constructor(config) {
    super();
    this.#config = config;
  }

  /** Where /session/* and /videos/* are served. */
  get edge() {
    return this.#config.edge;
  }

  get signedIn() {
    return this.#tokens !== null;
  }

  /** The current access token for your own API calls (refreshed first if due). */
  async accessToken() {
    if (!this.#tokens) throw new ReelgateError("not_signed_in", "sign in first");
    if (monotonic() - this.#tokens.obtainedAt >= this.#tokens.lifetime * 1000 - MIN_INTERVAL_MS) {
      await this.refreshTokens();
    }
    return this.#tokens.access;
  }

  async #cognito(target, body) {
    if (!this.#config.endpoint) throw new ReelgateError("invalid_config", "config: cognito.endpoint is needed for this");
    let response;
    try {
      response = await fetch(this.#config.endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": `AWSCognitoIdentityProviderService.${target}` },
        body: JSON.stringify({ ClientId: this.#config.clientId, ...body }),
      });
    } catch (cause) {
      throw new ReelgateError("network", "cannot reach the identity provider", { cause, recoverable: true });
    }
    const json = await response.json().catch(() => ({}));
    if (!response.ok) {
      const type = String(json.__type ?? "").split("#").pop();
      const reason = type === "NotAuthorizedException" || type === "UserNotFoundException" ? "not_authorized" : response.status >= 500 ? "unavailable" : "sign_in_failed";
      const error = new ReelgateError(reason, json.message || `identity provider: HTTP ${response.status}`, { status: response.status, recoverable: reason === "unavailable" });
      error.cognitoType = type || undefined;
      throw error;
    }
    return json;
  }

  #accept(result, { hosted = false, keepRefresh = null } = {}) {
    const refresh = result.RefreshToken ?? result.refresh_token ?? keepRefresh;
    this.#tokens = {
      access: result.AccessToken ?? result.access_token,
      refresh,
      lifetime: Number(result.ExpiresIn ?? result.expires_in) || 3600,
      obtainedAt: monotonic(),
      hosted,
    };
    clearTimeout(this.#tokenTimer);
    this.#tokenTimer = setTimeout(() => this.refreshTokens().catch(() => {}), clampMs(tokenRefreshIn(this.#tokens.lifetime)));
    document.addEventListener("visibilitychange", this.#onVisible); // the same listener is added once
  }

  /**
   * Signs in with USER_PASSWORD_AUTH. Resolves `{status: "signed_in"}`, or
   * `{status: "challenge", name, parameters, respond}` when Cognito asks for
   * more (NEW_PASSWORD_REQUIRED, SMS_MFA, SOFTWARE_TOKEN_MFA, …): call
   * `respond({NEW_PASSWORD: …})` or `respond({SMS_MFA_CODE: …})` with the answer.
   * Rejects with a ReelgateError (`not_authorized`, `sign_in_failed`, `network`, `unavailable`).
   */
  async signIn(username, password) {
    const answer = await this.#cognito("InitiateAuth", { AuthFlow: "USER_PASSWORD_AUTH", AuthParameters: { USERNAME: username, PASSWORD: password } });
    return this.#outcome(answer, username);
  }

  #outcome(answer, username) {
    if (answer.AuthenticationResult) {
      this.#accept(answer.AuthenticationResult);
      return { status: "signed_in" };
    }
    if (answer.ChallengeName) {
      return {
        status: "challenge",
        name: answer.ChallengeName,
        parameters: answer.ChallengeParameters ?? {},
        respond: async (responses) => {
          const next = await this.#cognito("RespondToAuthChallenge", {
            ChallengeName: answer.ChallengeName,
            Session: answer.Session,
            ChallengeResponses: { USERNAME: username, ...responses },
          });
          return this.#outcome(next, username);
        },
      };
    }
    throw new ReelgateError("bad_response", "the identity provider answered neither tokens nor a challenge");
  }

  /** Hosted UI, step 1: redirects to Cognito's authorize endpoint (authorization code + PKCE). */
  async signInWithHostedUi() {
    const ui = this.#config.hostedUi;
    if (!ui) throw new ReelgateError("invalid_config", "config: cognito.hosted_ui is missing");
    const verifier = randomString();
    const state = randomString();
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
    sessionStorage.setItem("reelgate.pkce", JSON.stringify({ verifier, state }));
    const url = new URL(`${ui.domain}/oauth2/authorize`);
    url.search = new URLSearchParams({
      response_type: "code", client_id: this.#config.clientId, redirect_uri: ui.redirectUri,
      scope: ui.scopes.join(" "), state, code_challenge: base64url(digest), code_challenge_method: "S256",
    });
    location.assign(url.href);
  }

  /**
   * Hosted UI, step 2, on the redirect page: exchanges `?code=` for tokens.
   * Resolves false when the URL carries no answer from the Hosted UI.
   */
  async completeHostedUiSignIn(href = location.href) {
    const ui = this.#config.hostedUi;
    const params = new URL(href).searchParams;
    if (!ui || (!params.has("code") && !params.has("error"))) return false;
    const saved = JSON.parse(sessionStorage.getItem("reelgate.pkce") ?? "null");
    sessionStorage.removeItem("reelgate.pkce");
    if (params.has("error")) throw new ReelgateError("sign_in_failed", params.get("error_description") ?? params.get("error"));
    if (!saved || saved.state !== params.get("state")) throw new ReelgateError("sign_in_failed", "the sign-in answer does not match this browser's request");
    const result = await this.#oauth("token", {
      grant_type: "authorization_code", client_id: this.#config.clientId, code: params.get("code"),
      redirect_uri: ui.redirectUri, code_verifier: saved.verifier,
    });
    this.#accept(result, { hosted: true });
    return true;
  }

  async #oauth(path, form) {
    let response;
    try {
      response = await fetch(`${this.#config.hostedUi.domain}/oauth2/${path}`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(form),
      });
    } catch (cause) {
      throw new ReelgateError("network", "cannot reach the Hosted UI", { cause, recoverable: true });
    }
    const json = await response.json().catch(() => ({}));
    if (!response.ok) {
      const reason = json.error === "invalid_grant" ? "not_authorized" : response.status >= 500 ? "unavailable" : "sign_in_failed";
      throw new ReelgateError(reason, json.error ?? `HTTP ${response.status}`, { status: response.status });
    }
    return json;
  }

  /**
   * A fresh access token (and fresh entitlement claims). One refresh at a
   * time; a rejected refresh token ends the sign-in (`session_expired`).
   */
  refreshTokens() {
    if (!this.#tokens) return Promise.reject(new ReelgateError("not_signed_in", "sign in first"));
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  async #refresh() {
    const tokens = this.#tokens;
    if (!tokens.refresh) throw new ReelgateError("session_expired", "no refresh token: sign in again");
    for (let attempt = 0; ; attempt += 1) {
      try {
        const result = tokens.hosted
          ? await this.#oauth("token", { grant_type: "refresh_token", client_id: this.#config.clientId, refresh_token: tokens.refresh })
          : (await this.#cognito("InitiateAuth", { AuthFlow: "REFRESH_TOKEN_AUTH", AuthParameters: { REFRESH_TOKEN: tokens.refresh } })).AuthenticationResult;
        if (this.#tokens !== tokens) throw new ReelgateError("not_signed_in", "signed out during the refresh");
        this.#accept(result, { hosted: tokens.hosted, keepRefresh: tokens.refresh });
        this.dispatchEvent(new Event("tokens"));
        return;
      } catch (error) {
        if (error.reason === "not_authorized") {
          this.#clear();
          const expired = new ReelgateError("session_expired", "the sign-in has expired: sign in again", { cause: error });
          this.#emit(expired);
          throw expired;
        }
        // Network trouble: retry while the current token still works.
        const left = tokens.lifetime * 1000 - (monotonic() - tokens.obtainedAt);
        const wait = Math.min(MIN_INTERVAL_MS * 2 ** attempt, MAX_BACKOFF_MS);
        if (!error.recoverable || left <= wait || this.#tokens !== tokens) {
          this.#emit(error);
          throw error;
        }
        await sleep(wait);
      }
    }
  }

  #emit(error) {
    this.dispatchEvent(new CustomEvent("error", { detail: error }));
  }

  #clear() {
    clearTimeout(this.#tokenTimer);
    this.#tokens = null;
    document.removeEventListener("visibilitychange", this.#onVisible);
  }

  /**
   * Obtains the title's cookies, attaches the player and keeps the cookies
   * fresh until `stop()`. Rejects with a ReelgateError: `not_entitled`
   * (also `not_available`, `device_limit`: the edge's reason), `unauthorized`,
   * `unavailable`, `network`, `invalid_video_id`, `unsupported`.
   * @param {HTMLVideoElement} video
   * @param {string} videoId
   * @param {{hls?: object, stream?: string, autoplay?: boolean}} [options]
   */
  async play(video, videoId, options = {}) {
    const playback = new Playback(this, video, videoId, options);
    await playback.start();
    this.#playbacks.add(playback);
    playback.addEventListener("stopped", () => this.#playbacks.delete(playback), { once: true });
    return playback;
  }

  /** The playbacks not yet stopped. */
  get playbacks() {
    return [...this.#playbacks];
  }

  /** Stops every playback (their cookies expire), then revokes the refresh token. */
  async signOut() {
    await Promise.allSettled([...this.#playbacks].map((p) => p.stop()));
    const tokens = this.#tokens;
    this.#clear();
    if (!tokens?.refresh) return;
    if (tokens.hosted) await this.#oauth("revoke", { token: tokens.refresh, client_id: this.#config.clientId });
    else await this.#cognito("RevokeToken", { Token: tokens.refresh });
    this.dispatchEvent(new Event("signedout"));
  }
}

export class Playback extends EventTarget {
  #session;
  #options;
  #timer = null;
  #dueAt = Infinity;
  #lastRequestAt = -Infinity;
  #recoveries = 0;
  #stopped = false;
  #inFlight = null;
  #failures = 0;
  #needsRestart = false;
  /** The hls.js instance when hls.js plays the title. */
  hls = null;
  /** What the edge answered last: `{expiresIn, refreshIn, playlist}`. */
  current = null;

  constructor(session, video, videoId, options) {
    super();
    this.#session = session;
    this.video = video;
    this.videoId = videoId;
    this.#options = options;
  }

  #sessionUrl() {
    const url = new URL(`/session/videos/${encodeURIComponent(this.videoId)}`, this.#session.edge);
    if (this.#options.stream) url.searchParams.set("stream", this.#options.stream);
    return url.href;
  }

  /** One session request: 401 → refresh the token → once more; 503 → wait `Retry-After`, a few times. */
  async #request() {
    let refreshed = false;
    for (let unavailable = 1; ; ) {
      const wait = this.#lastRequestAt + MIN_INTERVAL_MS - monotonic();
      if (wait > 0) await sleep(wait);
      this.#lastRequestAt = monotonic();
      let response;
      try {
        response = await fetch(this.#sessionUrl(), {
          headers: { Authorization: `Bearer ${await this.#session.accessToken()}` },
          credentials: "include",
          cache: "no-store",
        });
      } catch (cause) {
        if (cause instanceof ReelgateError) throw cause;
        throw new ReelgateError("network", "cannot reach the edge", { cause, recoverable: true });
      }
      const body = await response.json().catch(() => ({}));
      if (response.ok) {
        const times = sessionTimes(body, response.headers.get("date"));
        return { ...times, playlist: new URL(body.playlist ?? `/videos/${this.videoId}/master.m3u8`, this.#session.edge).href };
      }
      const reason = typeof body.error === "string" ? body.error : null;
      if (response.status === 401 && !refreshed) {
        refreshed = true;
        await this.#session.refreshTokens();
        continue;
      }
      if (response.status >= 500 && unavailable < UNAVAILABLE_ATTEMPTS) {
        unavailable += 1;
        await sleep(clampMs(Math.min(retryAfterSeconds(response), MAX_BACKOFF_MS / 1000)));
        continue;
      }
      const details = { status: response.status, retryAfter: response.status >= 500 ? retryAfterSeconds(response) : undefined };
      if (response.status === 401) throw new ReelgateError(reason ?? "unauthorized", "the edge refused the sign-in", details);
      if (response.status === 403) throw new ReelgateError(reason ?? "not_entitled", "no access to this title", details);
      if (response.status >= 500) throw new ReelgateError(reason ?? "unavailable", "the edge cannot decide right now", { ...details, recoverable: true });
      throw new ReelgateError(reason ?? "bad_request", `the edge answered HTTP ${response.status}`, details);
    }
  }

  async start() {
    this.current = await this.#request();
    this.#attach(this.current.playlist);
    this.#schedule(this.current.refreshIn);
  }

  #attach(playlist) {
    const Hls = globalThis.Hls;
    const video = this.video;
    if (Hls?.isSupported?.()) {
      const crossOrigin = new URL(playlist).origin !== location.origin;
      const hls = new Hls({ ...hlsConfig(crossOrigin), ...this.#options.hls });
      hls.on(Hls.Events.FRAG_LOADED, () => {
        this.#recoveries = 0;
      });
      hls.on(Hls.Events.ERROR, (_event, data) => {
        if (data.fatal) this.#recover(data);
      });
      hls.loadSource(playlist);
      hls.attachMedia(video);
      this.hls = hls;
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = playlist;
    } else {
      throw new ReelgateError("unsupported", "this browser plays HLS neither natively nor with hls.js (load hls.js first)");
    }
    if (this.#options.autoplay !== false) video.play().catch(() => {});
  }

  /** A fatal hls.js error: refresh the cookies and resume, a few times in a row at most. */
  async #recover(data) {
    const Hls = globalThis.Hls;
    if (this.#stopped) return;
    this.#recoveries += 1;
    if (this.#recoveries > MAX_RECOVERIES) {
      this.#emit(new ReelgateError("playback_failed", `the player stopped: ${data.details}`, { recoverable: true }));
      return;
    }
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
      await sleep(MIN_INTERVAL_MS);
      this.hls?.recoverMediaError();
      return;
    }
    try {
      if (data.type === Hls.ErrorTypes.NETWORK_ERROR) await this.refresh();
      if (this.#stopped) return;
      if (data.details === Hls.ErrorDetails.MANIFEST_LOAD_ERROR) this.hls.loadSource(this.current.playlist);
      else this.hls.startLoad(-1);
      this.dispatchEvent(new Event("recovered"));
    } catch {
      // refresh() reported it and keeps trying; its next success restarts loading.
      this.#needsRestart = true;
    }
  }

  /** Restarts loading after an error the playback reported (e.g. the network came back). */
  async retry() {
    this.#recoveries = 0;
    await this.refresh();
    if (this.hls) this.hls.startLoad(-1);
    else this.video.load();
  }

  #schedule(seconds) {
    clearTimeout(this.#timer);
    const ms = clampMs(seconds);
    this.#dueAt = monotonic() + ms;
    this.#timer = setTimeout(() => this.refresh().catch(() => {}), ms);
  }

  /**
   * New cookies now (one request at a time). Failures are reported as an
   * `error` event and rejected; network and 5xx failures are retried with
   * back-off while the playback lives.
   */
  refresh() {
    this.#inFlight ??= this.#refreshOnce().finally(() => {
      this.#inFlight = null;
    });
    return this.#inFlight;
  }

  async #refreshOnce() {
    if (this.#stopped) return;
    try {
      this.current = await this.#request();
      if (this.#stopped) return;
      this.#schedule(this.current.refreshIn);
      if (this.#needsRestart && this.hls) {
        this.#needsRestart = false;
        this.hls.startLoad(-1);
      }
      this.dispatchEvent(new CustomEvent("refresh", { detail: this.current }));
    } catch (error) {
      if (this.#stopped) return;
      if (error.recoverable) {
        this.#failures += 1;
        this.#schedule(Math.min(2 ** this.#failures, MAX_BACKOFF_MS / 1000));
      } else {
        clearTimeout(this.#timer);
        this.#dueAt = Infinity;
      }
      this.#emit(error);
      throw error;
    }
    this.#failures = 0;
  }

  /** After the tab comes back (timers may have been throttled): refresh if due. */
  recheck() {
    if (!this.#stopped && monotonic() >= this.#dueAt) this.refresh().catch(() => {});
  }

  #emit(error) {
    this.dispatchEvent(new CustomEvent("error", { detail: error }));
  }

  /** Detaches the player and expires the title's cookies (DELETE /session/videos/{id}). */
  async stop() {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.hls?.destroy();
    this.hls = null;
    this.video.removeAttribute("src");
    this.video.load();
    this.dispatchEvent(new Event("stopped"));
    const headers = {};
    if (this.#session.signedIn) {
      try {
        headers.Authorization = `Bearer ${await this.#session.accessToken()}`;
      } catch {
        // Without a token the cookies still expire; only a device slot waits for its lifetime.
      }
    }
    try {
      await fetch(this.#sessionUrl(), { method: "DELETE", headers, credentials: "include" });
    } catch (cause) {
      throw new ReelgateError("network", "cannot reach the edge to end the session", { cause, recoverable: true });
    }
  }
}
