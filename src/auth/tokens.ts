/**
 * Bearer token verification. One algorithm is pinned per deployment, so a
 * token cannot choose how it is checked (`alg: none`, HS/RS confusion): an
 * HS256 shared secret (AUTH_SECRET) or a JWKS URL (AUTH_JWKS_URL, with
 * AUTH_JWT_ALG, default RS256). `sub` is the user id and `exp` is required.
 * With a JWKS the issuer and audience are required and checked: the identity
 * provider signs tokens for other applications with the same keys.
 */
import { type JWTPayload, type JWTVerifyGetKey, SignJWT, createRemoteJWKSet, jwtVerify } from "jose";
import type { AuthConfig } from "../kernel/config";
import { UserId } from "../protocol";

export type { AuthConfig };


export interface Identity {
  userId: string;
  admin: boolean;
  /** When the token expires (ms since epoch). */
  expiresAt: number;
}

/** Seconds of clock skew tolerated between the token issuer and us. */
const CLOCK_TOLERANCE_S = 30;
const DEV_TOKEN_TTL_S = 24 * 60 * 60;

const jwksCache = new Map<string, JWTVerifyGetKey>();

function keyFor(config: AuthConfig): Uint8Array | JWTVerifyGetKey | null {
  if (config.jwksUrl) {
    let jwks = jwksCache.get(config.jwksUrl);
    if (!jwks) {
      jwks = createRemoteJWKSet(new URL(config.jwksUrl));
      jwksCache.set(config.jwksUrl, jwks);
    }
    return jwks;
  }
  if (config.secret) return new TextEncoder().encode(config.secret);
  return null;
}

export type VerifyOutcome = { ok: true; identity: Identity } | { ok: false; reason: string };

export async function verifyToken(token: string, config: AuthConfig): Promise<VerifyOutcome> {
  const key = keyFor(config);
  if (!key) return { ok: false, reason: "authentication is not configured (set AUTH_SECRET or AUTH_JWKS_URL)" };
  // The edge refuses such a configuration first (config.problems); this keeps the check where the key is used.
  if (config.jwksUrl && (!config.issuer || !config.audience)) return { ok: false, reason: "AUTH_ISSUER and AUTH_AUDIENCE are required with AUTH_JWKS_URL" };
  let payload: JWTPayload;
  try {
    const options = {
      algorithms: [config.algorithm],
      requiredClaims: ["sub", "exp"],
      clockTolerance: CLOCK_TOLERANCE_S,
      ...(config.issuer ? { issuer: config.issuer } : {}),
      ...(config.audience ? { audience: config.audience } : {}),
    };
    payload = (typeof key === "function" ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options)).payload;
  } catch (error) {
    return { ok: false, reason: describeJoseError(error) };
  }
  const userId = UserId.safeParse(payload.sub);
  if (!userId.success) return { ok: false, reason: "token subject is not a valid user id" };
  return { ok: true, identity: { userId: userId.data, admin: payload[config.adminClaim] === true, expiresAt: (payload.exp ?? 0) * 1000 } };
}

function describeJoseError(error: unknown): string {
  const code = typeof error === "object" && error !== null && "code" in error ? String((error as { code: unknown }).code) : "";
  switch (code) {
    case "ERR_JWT_EXPIRED":
      return "token has expired";
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      return "token claims are not valid";
    case "ERR_JOSE_ALG_NOT_ALLOWED":
      return "token algorithm is not allowed";
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return "token signature is not valid";
    default:
      return "token is not valid";
  }
}

/** Dev auth only: a token for any user, signed with the configured secret. */
export async function signDevToken(config: AuthConfig, userId: string, admin: boolean): Promise<string> {
  if (!config.secret) throw new Error("dev auth needs AUTH_SECRET");
  const claims: Record<string, unknown> = admin ? { [config.adminClaim]: true } : {};
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setSubject(userId).setIssuedAt().setExpirationTime(`${DEV_TOKEN_TTL_S}s`);
  if (config.issuer) jwt = jwt.setIssuer(config.issuer);
  if (config.audience) jwt = jwt.setAudience(config.audience);
  return jwt.sign(new TextEncoder().encode(config.secret));
}
