// The security headers of the web app's assets, written to dist/web/_headers by
// scripts/build-web.mjs (assets are served without running the Worker). Kept apart
// from the build so a test can read them without building.
//
// connect-src is 'self' alone: under CSP Level 3 'self' also matches ws: and wss:
// on the page's own host and port (wss: only, from an https page), which is
// every socket the app opens; no other host is reachable from the page.
//
// Strict-Transport-Security is sent with every asset: browsers take it only from
// an https response (RFC 6797 §8.1), so a plain-http local server is unaffected.

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join("; ");

/** Two years, as the HSTS preload list asks; subdomains are left to the deployment. */
export const STRICT_TRANSPORT_SECURITY = "max-age=63072000";

/** Every powerful feature off, except fullscreen for the page itself (video attachments). Only names browsers know: an unknown one is a console error. */
export const PERMISSIONS_POLICY = [
  "accelerometer=()",
  "camera=()",
  "display-capture=()",
  "fullscreen=(self)",
  "geolocation=()",
  "gyroscope=()",
  "hid=()",
  "magnetometer=()",
  "microphone=()",
  "midi=()",
  "payment=()",
  "publickey-credentials-get=()",
  "screen-wake-lock=()",
  "serial=()",
  "usb=()",
  "xr-spatial-tracking=()",
].join(", ");

/** The _headers file: these on every asset. */
export function headersFile() {
  return `/*
  Content-Security-Policy: ${CONTENT_SECURITY_POLICY}
  Strict-Transport-Security: ${STRICT_TRANSPORT_SECURITY}
  Permissions-Policy: ${PERMISSIONS_POLICY}
  X-Content-Type-Options: nosniff
  Referrer-Policy: no-referrer
  X-Frame-Options: DENY
  Cache-Control: no-cache
`;
}
