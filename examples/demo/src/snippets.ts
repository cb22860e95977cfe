import { randomUUID } from 'node:crypto';

/** The demo's protected resource. */
export interface Snippet {
  id: string;
  title: string;
  content: string;
  createdAt: string;
}

const MAX_PER_ORGANIZATION = 100;

/**
 * A few snippets per organization, in memory (newest first, at most 100 each).
 *
 * @example
 * const snippets = new Snippets();
 * snippets.add('org_1', { title: 'Hello', content: 'world' });
 * snippets.list('org_1'); // [{ id, title: 'Hello', content: 'world', createdAt }]
 */
export class Snippets {
  readonly #byOrganization = new Map<string, Snippet[]>();

  list(organizationId: string): Snippet[] {
    return [...(this.#byOrganization.get(organizationId) ?? [])];
  }

  add(organizationId: string, input: { title: string; content: string }): Snippet {
    const snippet = { id: randomUUID(), ...input, createdAt: new Date().toISOString() };
    const list = [snippet, ...(this.#byOrganization.get(organizationId) ?? [])];
    this.#byOrganization.set(organizationId, list.slice(0, MAX_PER_ORGANIZATION));
    return snippet;
  }
}
