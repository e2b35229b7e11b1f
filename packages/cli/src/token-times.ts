/**
 * When a token was signed and when RDS stops accepting it, read from its own `X-Amz-Date` and
 * `X-Amz-Expires` (what RDS checks), so a report can say so without printing the token.
 */
export function tokenTimes(token: string): { signedAt?: Date; expiresAt?: Date } {
  const m = /[?&]X-Amz-Date=(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(token)
  const exp = /[?&]X-Amz-Expires=(\d+)/.exec(token)
  if (!m) return {}
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[]
  const signedAt = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!))
  return {
    signedAt,
    ...(exp ? { expiresAt: new Date(signedAt.getTime() + Number(exp[1]) * 1000) } : {}),
  }
}
