/**
 * The device authorization grant (RFC 8628) as a CLI and its user live it: openid-client starts
 * it and polls; the user opens the verification page in a browser, types the code, confirms it
 * is their device, signs in and consents on the hosted pages, and sees the success page.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import * as oauth from 'oauth4webapi'
import * as oidcClient from 'openid-client'
import { register, STRONG_PASSWORD } from '../../test/factories.ts'
import {
  answerPages,
  type Browser,
  browser,
  createRelyingParty,
  hiddenField,
  type OidcTestServer,
  pageHeading,
  type RelyingParty,
  startOidcServer,
} from '../../test/oidc.ts'
import { en } from '../pages/strings.ts'

let t: OidcTestServer
let cli: RelyingParty

before(async () => {
  t = await startOidcServer()
  cli = await createRelyingParty(t, {
    client_name: 'Tessera CLI',
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
  })
})
after(() => t.close())

/** The form of a device page: where it posts, and its hidden fields. */
function deviceForm(html: string) {
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1]
  assert.ok(action, 'the page has a form')
  return { action: action.replaceAll('&amp;', '&'), xsrf: hiddenField(html, 'xsrf') }
}

/** Opens the verification URI and submits `userCode`: the answer (the confirmation page, if the code is right). */
async function enterCode(b: Browser, verificationUri: string, userCode: string) {
  const page = await b.get(verificationUri)
  assert.equal(page.status, 200)
  const html = await page.text()
  assert.equal(pageHeading(html), en.device.title)
  const form = deviceForm(html)
  return b.post(form.action, { xsrf: form.xsrf, user_code: userCode })
}

/** No waiting between polls: the user has already answered when the CLI polls. */
const noInterval = (response: oauth.DeviceAuthorizationResponse) => ({ ...response, interval: 0 })

/** The device code grant once, as raw OAuth (openid-client's poll would wait and retry). */
async function pollOnce(deviceCode: string) {
  const as = cli.config.serverMetadata()
  const client = { client_id: cli.clientId }
  const response = await oauth.deviceCodeGrantRequest(as, client, oauth.None(), deviceCode, {
    [oauth.allowInsecureRequests]: true,
  })
  return oauth.processDeviceCodeResponse(as, client, response).then(
    () => 'tokens',
    (err: unknown) => (err instanceof oauth.ResponseBodyError ? err.error : Promise.reject(err)),
  )
}

describe('device authorization grant', () => {
  test('the user enters the code, confirms, signs in and consents; the device then gets tokens', async () => {
    const user = await register(t.app, { password: STRONG_PASSWORD })
    const started = await oidcClient.initiateDeviceAuthorization(cli.config, {
      scope: 'openid email offline_access',
    })
    assert.equal(started.verification_uri, `${t.issuer}/oidc/device`)
    assert.match(started.user_code, /^[A-Z]{4}-[A-Z]{4}$/)
    assert.equal(await pollOnce(started.device_code), 'authorization_pending')

    const b = browser(t.issuer)
    const confirm = await enterCode(
      b,
      started.verification_uri,
      started.user_code.toLowerCase().replace('-', ''),
    )
    assert.equal(confirm.status, 200)
    const confirmPage = await confirm.text()
    assert.equal(pageHeading(confirmPage), en.device.confirmTitle)
    assert.ok(confirmPage.includes('Tessera CLI'), 'names the client')
    assert.ok(confirmPage.includes(started.user_code), 'shows the code to compare with the device')

    const form = deviceForm(confirmPage)
    const confirmed = await b.post(form.action, {
      xsrf: form.xsrf,
      user_code: hiddenField(confirmPage, 'user_code'),
      confirm: 'yes',
    })
    assert.equal(confirmed.status, 303)
    const walk = await answerPages(b, new URL(confirmed.headers.get('location')!, t.issuer).href, user)
    assert.deepEqual(walk.pages, ['sign-in', 'consent'])
    assert.equal(walk.status, 200)
    assert.equal(pageHeading(walk.html!), en.device.successTitle)

    const tokens = await oidcClient.pollDeviceAuthorizationGrant(cli.config, noInterval(started))
    assert.equal(tokens.claims()!.sub, user.user.id)
    assert.equal(tokens.scope, 'openid email offline_access')
    const info = await oidcClient.fetchUserInfo(cli.config, tokens.access_token, user.user.id)
    assert.equal(info.email, user.email)
    assert.ok(tokens.refresh_token)
    const refreshed = await oidcClient.refreshTokenGrant(cli.config, tokens.refresh_token)
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token)

    assert.equal(await pollOnce(started.device_code), 'invalid_grant', 'the device code is single-use')
  })

  test('a wrong code shows the form again with an error', async () => {
    const started = await oidcClient.initiateDeviceAuthorization(cli.config, { scope: 'openid' })
    const b = browser(t.issuer)
    const wrong = await enterCode(b, started.verification_uri, 'BCDF-GHJK')
    assert.equal(wrong.status, 400)
    const html = await wrong.text()
    assert.equal(pageHeading(html), en.device.title, 'the code form again')
    assert.ok(html.includes(en.device.invalidCode))
    assert.ok(deviceForm(html).xsrf, 'ready for another try')
    assert.equal(await pollOnce(started.device_code), 'authorization_pending', 'nothing was authorized')
  })

  /** Opens the confirmation page for `userCode` and presses Cancel. */
  async function cancelOnConfirmationPage(b: Browser, verificationUri: string, userCode: string) {
    const confirmPage = await (await enterCode(b, verificationUri, userCode)).text()
    const form = deviceForm(confirmPage)
    return b.post(form.action, { xsrf: form.xsrf, user_code: userCode, abort: 'yes' })
  }

  test('cancelling on the confirmation page denies the device', async () => {
    const started = await oidcClient.initiateDeviceAuthorization(cli.config, { scope: 'openid' })
    const cancelled = await cancelOnConfirmationPage(
      browser(t.issuer),
      started.verification_uri,
      started.user_code,
    )
    assert.notEqual(pageHeading(await cancelled.text()), en.device.successTitle)
    assert.equal(await pollOnce(started.device_code), 'access_denied')
    const again = await enterCode(browser(t.issuer), started.verification_uri, started.user_code)
    assert.equal(again.status, 400, 'a cancelled code cannot be confirmed later')
  })

  test('cancelling on the confirmation page says the device was not connected', async () => {
    const started = await oidcClient.initiateDeviceAuthorization(cli.config, { scope: 'openid' })
    const cancelled = await cancelOnConfirmationPage(
      browser(t.issuer),
      started.verification_uri,
      started.user_code,
    )
    const html = await cancelled.text()
    assert.equal(cancelled.status, 200, html)
    assert.equal(pageHeading(html), en.device.cancelledTitle)
  })

  test('denying consent cancels the device: access_denied for the device', async () => {
    const user = await register(t.app, { password: STRONG_PASSWORD })
    const started = await oidcClient.initiateDeviceAuthorization(cli.config, { scope: 'openid' })
    const b = browser(t.issuer)
    const confirmPage = await (await enterCode(b, started.verification_uri, started.user_code)).text()
    const form = deviceForm(confirmPage)
    const confirmed = await b.post(form.action, {
      xsrf: form.xsrf,
      user_code: started.user_code,
      confirm: 'yes',
    })
    const walk = await answerPages(b, new URL(confirmed.headers.get('location')!, t.issuer).href, {
      ...user,
      consent: 'deny',
    })
    assert.deepEqual(walk.pages, ['sign-in', 'consent'])
    assert.notEqual(pageHeading(walk.html!), en.device.successTitle)
    assert.equal(await pollOnce(started.device_code), 'access_denied')
  })
})
