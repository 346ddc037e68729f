import { describe, expect, it } from '@jest/globals';
import { runInNewContext } from 'node:vm';
import { scriptSafeJson, securePanelPage, withScriptNonce } from './admin-page.js';

const NAME = '</script><script>alert(1)</script>';
const NONCE = 'bm9uY2Utb2YtdGhlLXRlc3Q=';

/** The shape of AdminJS 7's layout and login templates (frontend/*-template.js). */
function adminJsPage(state: unknown, attributes: unknown): string {
  return `
    <!DOCTYPE html>
    <html lang=en>
    <head>
      <script>
        window.REDUX_STATE = ${JSON.stringify(state)};
        window.THEME = ${JSON.stringify({ colors: { primary: '#3040D6' } })};
        window.AdminJS = { Components: {} };
      </script>
      <script src="/admin/frontend/assets/app.bundle.js"></script>
      <script>
        try {
          window.__APP_STATE__ = JSON.parse('${JSON.stringify(attributes)}');
        } catch (e) {
          window.__APP_STATE__ = {};
        }
      </script>
    </head>
    <body>
      <div id="app" />
      <script>
        var root = createRoot(document.getElementById('app'));
      </script>
    </body>
    </html>
  `;
}

/** What the page's inline scripts that set `window.*` leave there, run as a browser would. */
function evaluatedState(html: string): Record<string, unknown> {
  const window: Record<string, unknown> = {};
  for (const [, code] of html.matchAll(/<script(?: nonce="[^"]*")?>([\s\S]*?)<\/script>/g)) {
    if (code!.includes('window.')) runInNewContext(code!, { window });
  }
  return window;
}

describe('scriptSafeJson', () => {
  it('escapes <, >, & and U+2028/2029, and is the same JSON', () => {
    const value = { name: NAME, amp: 'a & b', lines: 'a\u2028b\u2029c' };
    const json = scriptSafeJson(value);
    expect(json).not.toMatch(/[<>&\u2028\u2029]/);
    expect(json).toContain('\\u003c/script\\u003e');
    expect(JSON.parse(json)).toEqual(value);
  });
});

describe('securePanelPage', () => {
  const page = adminJsPage(
    { session: { title: NAME, email: 'x@example.test' } },
    { action: '/admin/login', errorMessage: `it's </script><b>` },
  );
  const secured = securePanelPage(page, NONCE);

  it('leaves no way out of the inline scripts: the embedded state is escaped', () => {
    expect(page).toContain(NAME);
    expect(secured).not.toContain(NAME);
    expect(secured).not.toMatch(/<script>alert|<\/script><b>/);
    expect(secured.match(/<\/script>/g)).toHaveLength(page.match(/<\/script>/g)!.length - 3);
  });

  it('keeps what the scripts read: the same state, the same login attributes', () => {
    const state = evaluatedState(secured);
    expect(state.REDUX_STATE).toEqual({ session: { title: NAME, email: 'x@example.test' } });
    expect(state.THEME).toEqual({ colors: { primary: '#3040D6' } });
    expect(state.__APP_STATE__).toEqual({
      action: '/admin/login',
      errorMessage: `it's </script><b>`,
    });
  });

  it('gives every inline script the nonce, and nothing else', () => {
    const tags = [...secured.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
    expect(tags).toEqual([
      `<script nonce="${NONCE}">`,
      '<script src="/admin/frontend/assets/app.bundle.js">',
      `<script nonce="${NONCE}">`,
      `<script nonce="${NONCE}">`,
    ]);
  });

  it('refuses a page whose state it does not recognise (a changed AdminJS template)', () => {
    const changed = page.replace(
      /window\.REDUX_STATE = (.*);/,
      (_line, json: string) => `window.REDUX_STATE = Object.freeze(${json});`,
    );
    expect(() => securePanelPage(changed, NONCE)).toThrow(/REDUX_STATE/);
  });

  it('leaves other text alone', () => {
    expect(securePanelPage('{"records":[]}', NONCE)).toBe('{"records":[]}');
  });
});

describe('withScriptNonce', () => {
  it("replaces script-src (no 'unsafe-inline') and keeps the other directives", () => {
    const csp =
      "default-src 'self';script-src 'self' 'unsafe-inline';script-src-attr 'none';style-src 'self' 'unsafe-inline'";
    expect(withScriptNonce(csp, NONCE)).toBe(
      `default-src 'self';script-src-attr 'none';style-src 'self' 'unsafe-inline';script-src 'self' 'nonce-${NONCE}'`,
    );
  });

  it('adds script-src where there was none', () => {
    expect(withScriptNonce("default-src 'self'", NONCE)).toBe(
      `default-src 'self';script-src 'self' 'nonce-${NONCE}'`,
    );
  });
});
