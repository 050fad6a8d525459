/** Which content types a deployment accepts (its list is MediaConfig.allowedTypes, src/kernel/config.ts). */
export function typeAllowed(contentType: string, allowed: string[]): boolean {
  return allowed.some((pattern) => pattern === contentType || (pattern.endsWith("/*") && contentType.startsWith(pattern.slice(0, -1))));
}
