import type { CacheItem, CacheProvider } from '@node-saml/node-saml';
import { SAML_REQUEST_TTL_MS } from './saml-sp.js';
import type { SsoRepository } from './sso.repository.js';

/**
 * node-saml's InResponseTo store, in PostgreSQL (saml_requests), scoped to one connection and
 * one validation: any instance of the app may issue the request and another receive the
 * answer. Requests live 10 minutes and are used once: `removeAsync` deletes the row in one
 * statement and remembers whether this validation was the one that took it, so of two posts
 * answering one request only one gets through (`claim`). node-saml also removes the request
 * when validation fails: a refused answer uses the request up.
 */
export class SamlRequestCache implements CacheProvider {
  private readonly claimed = new Set<string>();

  constructor(
    private readonly repo: SsoRepository,
    private readonly connectionId: number,
  ) {}

  async saveAsync(key: string, value: string): Promise<CacheItem | null> {
    const now = new Date();
    await this.repo.insertRequest(key, this.connectionId, now);
    return { value, createdAt: now.getTime() };
  }

  async getAsync(key: string): Promise<string | null> {
    const row = await this.repo.findRequest(key, this.connectionId, this.since());
    return row ? row.createdAt.toISOString() : null;
  }

  async removeAsync(key: string | null): Promise<string | null> {
    if (key === null) return null;
    const taken = await this.repo.consumeRequest(key, this.connectionId, this.since());
    if (!taken) return null;
    this.claimed.add(key);
    return key;
  }

  /** True when this validation used the request up (now, or already during validation). */
  async claim(key: string): Promise<boolean> {
    return this.claimed.has(key) || (await this.removeAsync(key)) !== null;
  }

  private since(): Date {
    return new Date(Date.now() - SAML_REQUEST_TTL_MS);
  }
}
