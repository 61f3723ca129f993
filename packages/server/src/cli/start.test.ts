/**
 * `tessera start` as operators run it: a whole process that serves, and that on SIGTERM stops
 * taking connections, finishes the request in flight and exits 0.
 */
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { startTessera } from '../../test/server-process.ts'

const BIN = fileURLToPath(new URL('../../bin/tessera.js', import.meta.url))
/** Long enough for the server to read what was sent, or to act on a signal. */
const SETTLE_MS = 200
/** Far below the keep-alive timeout (72 s) that would otherwise hold the connection, and the exit. */
const CLOSE_WITHIN_MS = 10_000

/** Everything the server sends on `socket` until it closes it. */
function responseOn(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = ''
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8')
    })
    socket.once('end', () => resolve(text))
    socket.once('error', reject)
  })
}

test('tessera start serves; on SIGTERM it refuses new connections, finishes the request in flight and exits 0', async () => {
  const server = await startTessera(BIN)
  const { url, port, child } = server
  try {
    // A sign-in whose body has not all arrived: the request is in flight when the signal comes.
    const body = JSON.stringify({ email: 'nobody@example.com', password: 'not the password' })
    const socket = connect(port, '127.0.0.1')
    const response = responseOn(socket)
    socket.write(
      `POST /v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 10)}`,
    )
    await sleep(SETTLE_MS)
    child.kill('SIGTERM')
    await sleep(SETTLE_MS)

    await assert.rejects(fetch(`${url}/healthz`), 'no new connection once SIGTERM arrived')
    socket.write(body.slice(10))
    const tooLong = sleep(CLOSE_WITHIN_MS).then(() => {
      throw new Error('the connection stayed open after its answer')
    })
    const answer = await Promise.race([response, tooLong])
    assert.match(answer, /^HTTP\/1\.1 401 /, 'the request in flight got its answer')
    assert.match(answer, /"code":"invalid_credentials"/)
    assert.equal(await server.exited, 0)
  } finally {
    server.dispose()
  }
})
