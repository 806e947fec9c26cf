// Types for reelgate-session.js (an ES module with no build step).

/** The page's config.json (see docs/protocol.md, "Page configuration"). */
export interface ReelgateConfig {
  cognito: {
    /** Cognito's JSON endpoint, e.g. https://cognito-idp.us-east-1.amazonaws.com/ (the local stack: /idp/). */
    endpoint?: string;
    client_id: string;
    /** For the Hosted UI (authorization code + PKCE). */
    hosted_ui?: { domain: string; redirect_uri: string; scopes?: string[] };
  };
  /** Origin of /session/* and /videos/* (the CloudFront distribution); "" or absent: the page's origin. */
  edge?: string;
  /** Base of /api/*; "" or absent: the page's origin. */
  api?: string;
  titles?: { id: string; name: string; playlist?: string; free?: boolean }[];
  player?: { loop?: boolean; hls?: Record<string, unknown> };
  /** Present only in the local stack. */
  dev?: { payments?: string; users?: { username: string; access: string }[] };
}

/** Stable reasons: see docs/protocol.md, "Client errors". */
export type ReelgateReason =
  | "invalid_config" | "network" | "not_authorized" | "sign_in_failed" | "not_signed_in" | "session_expired"
  | "not_entitled" | "not_available" | "device_limit" | "unauthorized" | "unavailable" | "invalid_video_id"
  | "bad_request" | "bad_response" | "unsupported" | "playback_failed" | (string & {});

export class ReelgateError extends Error {
  readonly reason: ReelgateReason;
  readonly status?: number;
  /** Seconds, from the edge's Retry-After on a 5xx. */
  readonly retryAfter?: number;
  /** True when trying again later may succeed. */
  readonly recoverable: boolean;
  /** The Cognito exception name, for identity-provider errors. */
  cognitoType?: string;
}

export type SignInResult =
  | { status: "signed_in" }
  | {
      status: "challenge";
      /** NEW_PASSWORD_REQUIRED, SMS_MFA, SOFTWARE_TOKEN_MFA, … */
      name: string;
      parameters: Record<string, string>;
      respond(responses: Record<string, string>): Promise<SignInResult>;
    };

export interface SessionInfo {
  /** Seconds until the cookies lapse. */
  expiresIn: number;
  /** Seconds until the module asks again. */
  refreshIn: number;
  /** Absolute playlist URL. */
  playlist: string;
}

export interface PlayOptions {
  /** Extra hls.js settings. */
  hls?: Record<string, unknown>;
  /** A device id (`[A-Za-z0-9_-]{8,64}`) when the app tracks its own. */
  stream?: string;
  /** Call video.play() once attached (default true). */
  autoplay?: boolean;
}

export class Playback extends EventTarget {
  readonly video: HTMLVideoElement;
  readonly videoId: string;
  /** The hls.js instance, when hls.js plays the title. */
  hls: unknown | null;
  current: SessionInfo | null;
  refresh(): Promise<void>;
  retry(): Promise<void>;
  recheck(): void;
  stop(): Promise<void>;
  // events: "refresh" (CustomEvent<SessionInfo>), "error" (CustomEvent<ReelgateError>), "recovered", "stopped"
}

export class Session extends EventTarget {
  readonly edge: string;
  readonly signedIn: boolean;
  readonly playbacks: Playback[];
  accessToken(): Promise<string>;
  signIn(username: string, password: string): Promise<SignInResult>;
  signInWithHostedUi(): Promise<void>;
  completeHostedUiSignIn(href?: string): Promise<boolean>;
  refreshTokens(): Promise<void>;
  play(video: HTMLVideoElement, videoId: string, options?: PlayOptions): Promise<Playback>;
  signOut(): Promise<void>;
  // events: "tokens", "error" (CustomEvent<ReelgateError>), "signedout"
}

export function createSession(config: ReelgateConfig): Session;
export function hlsConfig(crossOrigin: boolean): Record<string, unknown>;
export function sessionTimes(
  body: { expires_at: number; refresh_after: number; expires_in?: number; refresh_in?: number },
  dateHeader: string | null,
): { expiresIn: number; refreshIn: number };
