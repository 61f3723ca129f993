/**
 * The loopback hosts: where plain `http:` is accepted (the public URL in development, redirect
 * URIs of native apps per RFC 8252 §7.3, API audiences outside production).
 */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

export function isLoopback(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname)
}
