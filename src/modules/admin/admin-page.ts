/**
 * The panel's HTML pages, made safe to embed data in and to serve without `'unsafe-inline'`.
 *
 * AdminJS renders its pages (layout and login templates) as one string with inline scripts
 * that assign its state: `window.REDUX_STATE = ${JSON.stringify(state)};`, which holds the
 * signed-in staff member (their name as `session.title`). JSON.stringify leaves `<` as it is,
 * so a name with `</script><script>…` ended the script and started the attacker's, and the
 * panel's CSP allowed inline scripts. AdminJS offers no way to replace its templates, so the
 * loader passes every page through `securePanelPage` on its way out: the state lines are
 * parsed and written again script-safe, and the template's own inline scripts get the
 * response's CSP nonce (`withScriptNonce`), so script-src needs no `'unsafe-inline'`.
 */

/** Characters that must not appear raw in an inline script's JSON. */
const UNSAFE_IN_SCRIPT = /[<>&\u2028\u2029]/g;

function unicodeEscape(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * JSON that can sit in an inline `<script>`: `<`, `>`, `&` and U+2028/2029 as `\u` escapes
 * (inside strings, the only place JSON has them), so no `</script>` or `<!--` can appear.
 */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(UNSAFE_IN_SCRIPT, unicodeEscape);
}

/** The body of a single-quoted JS string literal whose value is `text`, script-safe too. */
function scriptSafeStringBody(text: string): string {
  return text.replace(/[\\'\n\r<>&\u2028\u2029]/g, (char) =>
    char === '\\' ? '\\\\' : char === "'" ? "\\'" : unicodeEscape(char),
  );
}

/** The globals AdminJS's templates hand data to its front end in. */
const STATE = '(REDUX_STATE|THEME|__APP_STATE__)';
/** `window.REDUX_STATE = {json};` (one line: JSON.stringify writes no raw line break). */
const JSON_STATE_LINE = new RegExp(`^(\\s*window\\.${STATE} = )(\\{.*\\});\\s*$`);
/** The login page's `window.__APP_STATE__ = JSON.parse('{json}');`, the JSON pasted in as is. */
const PARSED_STATE_LINE = new RegExp(`^(\\s*window\\.${STATE} = JSON\\.parse\\(')(.*)('\\);)\\s*$`);
/** Any line that assigns one of them: each must be one of the two shapes above. */
const STATE_ASSIGNMENT = new RegExp(`window\\.${STATE}\\b`);
/** An inline script tag of the templates, alone on its line. */
const INLINE_SCRIPT_TAG = /^(\s*)<script>\s*$/;
/** An HTML document (what AdminJS sends for its pages), as opposed to JSON or a bundle. */
const HTML_DOCUMENT = /^\s*<!DOCTYPE html>/i;

/**
 * AdminJS's page with its state lines written again script-safe and its inline scripts given
 * `nonce`. Anything that is not an HTML document comes back as it was. A state assignment of
 * another shape (an AdminJS upgrade changed its templates) is an error, not a page served
 * unescaped.
 */
export function securePanelPage(html: string, nonce: string): string {
  if (!HTML_DOCUMENT.test(html)) return html;
  return html
    .split('\n')
    .map((line) => {
      const json = JSON_STATE_LINE.exec(line);
      if (json) return `${json[1]!}${scriptSafeJson(JSON.parse(json[3]!))};`;
      const parsed = PARSED_STATE_LINE.exec(line);
      if (parsed) {
        const text = JSON.stringify(JSON.parse(parsed[3]!));
        return `${parsed[1]!}${scriptSafeStringBody(text)}${parsed[4]!}`;
      }
      const state = STATE_ASSIGNMENT.exec(line);
      if (state) throw new Error(`AdminJS page: window.${state[1]!} is assigned in a new way`);
      const tag = INLINE_SCRIPT_TAG.exec(line);
      return tag ? `${tag[1]!}<script nonce="${nonce}">` : line;
    })
    .join('\n');
}

/**
 * The app's Content-Security-Policy with script-src replaced by `'self' 'nonce-<nonce>'`: the
 * panel's bundles come from its own origin, its inline scripts carry the nonce, and nothing
 * else runs (no `'unsafe-inline'`). Every other directive stays the app's.
 */
export function withScriptNonce(csp: string, nonce: string): string {
  const others = csp
    .split(';')
    .map((directive) => directive.trim())
    .filter((directive) => directive !== '' && !/^script-src(\s|$)/i.test(directive));
  return [...others, `script-src 'self' 'nonce-${nonce}'`].join(';');
}
