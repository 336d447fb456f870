/**
 * U+0000 in a string: valid JSON, but Postgres cannot store it in text, so it is refused as invalid
 * input at the edge (PARAM_ILLEGAL / 400) rather than failing deep in the store. JSON can only carry it
 * escaped, so a byte search on the raw body decides cheaply whether the deep check is needed.
 */
const ESCAPED_NUL = Buffer.from('\\u0000');

export function mayContainNul(raw: Buffer | string): boolean {
  return typeof raw === 'string' ? raw.includes('\u0000') || raw.includes('\\u0000') : raw.includes(ESCAPED_NUL) || raw.includes(0);
}

/** The path of the first string (or key) holding U+0000, or null. */
export function findNul(value: unknown, path = ''): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path || '(value)' : null;
  if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      const at = Array.isArray(value) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
      if (key.includes('\u0000')) return at;
      const found = findNul(child, at);
      if (found) return found;
    }
  }
  return null;
}
