// Passkeys on the hosted sign-in pages. The password and code forms work without this script;
// it only reveals the passkey button when the browser supports WebAuthn. The button fetches
// options, asks the authenticator, then submits the page's own hidden form (CSRF token
// included) with the assertion, so the server answers with the next step as usual.
import { browserSupportsWebAuthn, startAuthentication } from '/assets/simplewebauthn-browser/index.js'

const section = document.getElementById('passkey')
const form = document.getElementById('passkey-form')
const status = document.getElementById('passkey-status')

async function usePasskey() {
  status.textContent = ''
  try {
    const mfaToken = form.dataset.mfaToken
    const res = await fetch(form.dataset.options, {
      method: 'POST',
      headers: mfaToken ? { 'content-type': 'application/json' } : {},
      body: mfaToken ? JSON.stringify({ mfaToken }) : undefined,
      credentials: 'omit',
    })
    if (!res.ok) throw new Error(`options: ${res.status}`)
    const answer = await res.json()
    // Sign-in answers { challengeId, options }; the MFA step answers the options alone.
    const options = answer.options ?? answer
    const credential = await startAuthentication({ optionsJSON: options })
    if (answer.challengeId) form.elements.challengeId.value = answer.challengeId
    form.elements.credential.value = JSON.stringify(credential)
    form.submit()
  } catch {
    status.textContent = status.dataset.failed
  }
}

if (section && form && browserSupportsWebAuthn()) {
  section.hidden = false
  document.getElementById('passkey-button').addEventListener('click', usePasskey)
}
