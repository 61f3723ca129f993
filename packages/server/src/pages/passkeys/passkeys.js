// The passkeys page: sign in (password, then a passkey if the account asks for a second factor,
// or a passkey alone), add a passkey, sign out. Tokens live in this module's memory only.
import {
  browserSupportsWebAuthn,
  startAuthentication,
  startRegistration,
} from '/assets/simplewebauthn-browser/index.js'

/** @type {{ accessToken: string, user: { email: string } } | null} */
let session = null

const byId = (id) => document.getElementById(id)

function say(message) {
  byId('status').textContent = message
}

/** JSON in, JSON out; a problem+json answer becomes an Error with its detail. */
async function api(method, path, body) {
  const headers = {}
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (session) headers.authorization = `Bearer ${session.accessToken}`
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'omit',
  })
  const data = res.status === 204 ? null : await res.json()
  if (!res.ok) throw new Error(data?.detail ?? `request failed (${res.status})`)
  return data
}

async function showPasskeys() {
  const { passkeys } = await api('GET', '/v1/me/passkeys')
  const list = byId('passkey-list')
  list.replaceChildren(
    ...passkeys.map((p) => {
      const item = document.createElement('li')
      item.textContent = `${p.label}${p.backedUp ? ' (synced)' : ''}`
      return item
    }),
  )
}

async function signedIn(tokens) {
  session = { accessToken: tokens.accessToken, user: tokens.user }
  byId('signed-in-email').textContent = tokens.user.email
  byId('signed-out').hidden = true
  byId('signed-in').hidden = false
  byId('backup-codes').hidden = true
  say(`Signed in as ${tokens.user.email}.`)
  await showPasskeys()
}

async function secondFactor(step) {
  if (!step.methods.includes('passkey')) {
    throw new Error('This account needs a second factor that this page cannot ask for.')
  }
  say('Confirm with your passkey…')
  const optionsJSON = await api('POST', '/v1/auth/mfa/passkey/options', { mfaToken: step.mfaToken })
  const credential = await startAuthentication({ optionsJSON })
  return api('POST', '/v1/auth/mfa', { mfaToken: step.mfaToken, method: 'passkey', credential })
}

function run(action) {
  return async (event) => {
    event.preventDefault()
    try {
      await action()
    } catch (err) {
      say(err instanceof Error ? err.message : String(err))
    }
  }
}

byId('password-form').addEventListener(
  'submit',
  run(async () => {
    const answer = await api('POST', '/v1/auth/login', {
      email: byId('email').value,
      password: byId('password').value,
    })
    byId('password').value = ''
    await signedIn(answer.mfaRequired ? await secondFactor(answer) : answer)
  }),
)

byId('passkey-sign-in').addEventListener(
  'click',
  run(async () => {
    const { challengeId, options } = await api('POST', '/v1/auth/passkey/options')
    const credential = await startAuthentication({ optionsJSON: options })
    await signedIn(await api('POST', '/v1/auth/passkey/verify', { challengeId, credential }))
  }),
)

byId('add-passkey-form').addEventListener(
  'submit',
  run(async () => {
    const optionsJSON = await api('POST', '/v1/me/passkeys/options')
    const credential = await startRegistration({ optionsJSON })
    const label = byId('passkey-label').value.trim()
    const added = await api('POST', '/v1/me/passkeys', { credential, ...(label ? { label } : {}) })
    if (added.backupCodes) {
      byId('backup-codes-list').textContent = added.backupCodes.join('\n')
      byId('backup-codes').hidden = false
    }
    await showPasskeys()
    say(`Passkey "${added.passkey.label}" added.`)
  }),
)

byId('sign-out').addEventListener(
  'click',
  run(async () => {
    await api('POST', '/v1/auth/logout')
    session = null
    byId('signed-in').hidden = true
    byId('signed-out').hidden = false
    say('Signed out.')
  }),
)

if (!browserSupportsWebAuthn()) say('This browser does not support passkeys.')
