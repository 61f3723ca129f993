/**
 * The provider's storage: what `find` answers for a token the provider asks several models about
 * at once (introspection, revocation, userinfo), on SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { KyselyPlugin } from 'kysely'
import { buildTestApp, type TestApp } from '../../test/harness.ts'
import { createAdapterClass } from './adapter.ts'

let t: TestApp
before(async () => {
  t = await buildTestApp()
})
after(() => t.close())

/** The adapter over a database that counts the queries it runs. */
function countingAdapter() {
  const counted = { queries: 0 }
  const counter: KyselyPlugin = {
    transformQuery: (args) => {
      counted.queries += 1
      return args.node
    },
    transformResult: async (args) => args.result,
  }
  const Adapter = createAdapterClass({
    db: t.database.db.withPlugin(counter),
    clock: t.clock,
    findClient: async () => undefined,
  })
  return { Adapter, counted }
}

test('a token looked up in several models at once is one query, and each model gets only its own row', async () => {
  const { Adapter, counted } = countingAdapter()
  const accessTokens = new Adapter('AccessToken')
  const clientTokens = new Adapter('ClientCredentials')
  const refreshTokens = new Adapter('RefreshToken')
  await accessTokens.upsert('expired-id', { kind: 'AccessToken', clientId: 'app' }, 60)
  t.clock.advance(61_000)
  await clientTokens.upsert('shared-id', { kind: 'ClientCredentials', clientId: 'worker' }, 60)
  await accessTokens.upsert('shared-id-2', { kind: 'AccessToken', clientId: 'app' }, 60)

  counted.queries = 0
  const [asAccess, asClient, asRefresh] = await Promise.all([
    accessTokens.find('shared-id'),
    clientTokens.find('shared-id'),
    refreshTokens.find('shared-id'),
  ])
  assert.equal(counted.queries, 1)
  assert.equal(asAccess, undefined, 'no AccessToken row by that id')
  assert.equal(asClient?.clientId, 'worker')
  assert.equal(asRefresh, undefined)

  const [expired, live] = await Promise.all([
    accessTokens.find('expired-id'),
    accessTokens.find('shared-id-2'),
  ])
  assert.equal(expired, undefined, 'an expired row is no answer')
  assert.equal(live?.clientId, 'app')
  assert.equal(counted.queries, 3, 'different ids are different queries')

  await clientTokens.destroy('shared-id')
  assert.equal(await clientTokens.find('shared-id'), undefined, 'nothing is kept once the query has answered')
})
