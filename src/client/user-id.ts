/**
 * Finding the logged-in user's id on the page, in the original client's order: `#userId`,
 * `input[name="userId"]`, `[data-user-id]`, `window.userId`, `<body data-user-id>`, then
 * `localStorage.user_data` (JSON with an `id`). Unlike the original, an element that is present
 * but empty does not stop the search.
 */
export function findUserIdOnPage(doc: Document, win: Window & { userId?: unknown }): string | number | null {
  const element = doc.getElementById('userId')
    ?? doc.querySelector('input[name="userId"]')
    ?? doc.querySelector('[data-user-id]');
  if (element) {
    const value = (element as HTMLInputElement).value || element.getAttribute('data-user-id');
    if (value) return value;
  }
  if (typeof win.userId === 'string' || typeof win.userId === 'number') return win.userId;
  const fromBody = doc.body?.getAttribute('data-user-id');
  if (fromBody) return fromBody;
  try {
    const stored = win.localStorage?.getItem('user_data');
    const parsed: unknown = stored ? JSON.parse(stored) : null;
    const id = parsed && typeof parsed === 'object' ? (parsed as { id?: unknown }).id : undefined;
    if (typeof id === 'string' || typeof id === 'number') return id;
  } catch {
    // Unreadable storage (privacy mode) or not JSON: no user id from there.
  }
  return null;
}
