/**
 * The partials the pages build forms from (pages/partials/), rendered by the pages' own Eta
 * engine: accessible by default, and escaping every value they print.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createPageEngine } from './render.ts'
import { en } from './strings.ts'

const engine = createPageEngine()

/** Renders a template snippet the way a view would, with the strings as `it.s`. */
function render(template: string, data: Record<string, unknown> = {}): string {
  return engine.renderString(template, { s: en, ...data })
}

const field = (f: Record<string, unknown>, data: Record<string, unknown> = {}) =>
  render(`<%~ include('/partials/field', { field: it.f }) %>`, { f, ...data })

/** The `<input>` tag of the rendered field. */
const inputOf = (html: string) => /<input [^>]*>/.exec(html)?.[0] ?? ''

describe('partials', () => {
  test('field: a label bound to its input, autocomplete, no ARIA error state while valid', () => {
    const html = field({
      name: 'email',
      label: 'Email address',
      type: 'email',
      autocomplete: 'username',
      required: true,
    })
    assert.match(html, /<label for="email">Email address<\/label>/)
    assert.equal(
      inputOf(html),
      '<input id="email" name="email" type="email" autocomplete="username" required>',
    )

    const hinted = field({
      id: 'new-password',
      name: 'newPassword',
      label: 'Password',
      hint: 'Long is good.',
    })
    assert.match(hinted, /<span class="hint" id="new-password-hint">Long is good.<\/span>/)
    assert.match(inputOf(hinted), /aria-describedby="new-password-hint"/)
    assert.doesNotMatch(inputOf(hinted), /aria-invalid/)
  })

  test('field: an error marks the input aria-invalid and describes it, with a hidden "Error:" prefix', () => {
    const html = field({
      id: 'code',
      name: 'code',
      label: 'Code',
      hint: '6 digits',
      error: 'That code is not right.',
    })
    const input = inputOf(html)
    assert.match(input, /aria-invalid="true"/)
    assert.match(input, /aria-describedby="code-hint code-error"/)
    assert.match(
      html,
      /<span class="field-error" id="code-error"><span class="visually-hidden">Error: <\/span>That code is not right.<\/span>/,
    )

    // The error may come from the view's `errors` list instead, matched by the field's id.
    const errors = [{ field: 'password', message: 'Enter your password.' }]
    assert.match(inputOf(field({ name: 'password', label: 'Password' }, { errors })), /aria-invalid="true"/)
    assert.doesNotMatch(inputOf(field({ name: 'email', label: 'Email' }, { errors })), /aria-invalid/)
  })

  test('field: extra attributes, booleans, a value; checkboxes come before their label', () => {
    const html = field({
      name: 'code',
      label: 'Code',
      value: 'ABCD-EFGH',
      attrs: {
        inputmode: 'numeric',
        maxlength: 9,
        autofocus: true,
        readonly: false,
        'on click': 'x',
        onclick: 'alert(1)',
      },
    })
    const input = inputOf(html)
    assert.match(
      input,
      / value="ABCD-EFGH" inputmode="numeric" maxlength="9" autofocus onclick="alert\(1\)">$/,
    )
    assert.doesNotMatch(input, /readonly|on click/)

    const check = field({ name: 'remember', label: 'Remember this decision', type: 'checkbox', value: 'yes' })
    assert.match(
      check,
      /<div class="field field-check">\s*<input id="remember"[^>]*>\s*<label for="remember">/,
    )
  })

  test('field: every value is escaped, in text and in attributes', () => {
    const evil = `"><script>alert(1)</script>`
    const html = field({
      name: 'email',
      label: evil,
      hint: evil,
      value: evil,
      error: evil,
      attrs: { placeholder: evil },
    })
    assert.doesNotMatch(html, /<script/)
    assert.ok(html.includes('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"'))
    assert.ok(html.includes('<label for="email">&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</label>'))
  })

  test('error summary: role="alert", links to each field, plain text for a form-wide error; none when valid', () => {
    const summary = (errors: unknown) =>
      render(`<%~ include('/partials/error-summary', { errors: it.errors }) %>`, { errors })
    assert.equal(summary([]).trim(), '')
    assert.equal(summary(undefined).trim(), '')
    const html = summary([
      { message: 'The email address or password is not right.' },
      { field: 'code', message: 'Enter the <code>.' },
    ])
    assert.match(html, /<div class="error-summary" role="alert" aria-labelledby="error-summary-title">/)
    assert.match(html, /<h2 id="error-summary-title">There is a problem<\/h2>/)
    assert.match(html, /<li>The email address or password is not right.<\/li>/)
    assert.match(html, /<li><a href="#code">Enter the &lt;code&gt;.<\/a><\/li>/)
  })

  test('buttons: primary by default, secondary, which-button name/value, a link styled as a button', () => {
    const button = (b: Record<string, unknown>) =>
      render(`<%~ include('/partials/button', { button: it.b }) %>`, { b }).trim()
    assert.equal(button({ label: 'Sign in' }), '<button type="submit">Sign in</button>')
    assert.equal(
      button({ label: 'Use a passkey', kind: 'secondary', type: 'button', id: 'passkey' }),
      '<button type="button" class="secondary" id="passkey">Use a passkey</button>',
    )
    assert.equal(
      button({ label: 'Deny', kind: 'secondary', name: 'decision', value: 'deny' }),
      '<button type="submit" class="secondary" name="decision" value="deny">Deny</button>',
    )
    assert.equal(
      button({ label: 'Stay signed in', kind: 'secondary', href: '/account?a=1&b=2' }),
      '<a class="button secondary" href="/account?a=1&amp;b=2">Stay signed in</a>',
    )
    assert.equal(button({ label: '<b>' }), '<button type="submit">&lt;b&gt;</button>')
  })

  test('csrf: a hidden input named csrf with the given value; no token is an error, not an empty field', () => {
    const csrf = (value: unknown) =>
      render(`<%~ include('/partials/csrf', { csrf: it.value }) %>`, { value }).trim()
    assert.equal(csrf('abc"def'), '<input type="hidden" name="csrf" value="abc&quot;def">')
    assert.throws(() => csrf(undefined), /no token/)
    assert.throws(() => csrf(''), /no token/)
  })
})
