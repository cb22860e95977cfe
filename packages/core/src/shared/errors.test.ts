import { describe, expect, it } from 'vitest';
import { KeyStoreUnavailableError, KeywardError } from './errors.js';

describe('KeywardError', () => {
  it('carries the status, body and WWW-Authenticate header of docs/reference.md §2', () => {
    const invalid = new KeywardError('invalid_api_key');
    expect(invalid.status).toBe(401);
    expect(invalid.headers).toEqual({ 'WWW-Authenticate': 'Bearer realm="api", error="invalid_token"' });
    expect(invalid.toJSON()).toEqual({
      error: { code: 'invalid_api_key', message: 'The API key is invalid.' },
    });
    expect(new KeywardError('missing_api_key', { realm: 'snippets' }).headers).toEqual({
      'WWW-Authenticate': 'Bearer realm="snippets"',
    });
    expect(new KeywardError('insufficient_scope').headers).toEqual({});
  });

  it('adds details and extra members to the body', () => {
    const error = new KeywardError('validation_error', {
      details: [{ path: 'name', message: 'Must not be empty.' }],
    });
    expect(error.toJSON().error.details).toEqual([{ path: 'name', message: 'Must not be empty.' }]);
    expect(
      new KeywardError('insufficient_scope', { extra: { required: ['a'] } }).toJSON().error.required,
    ).toEqual(['a']);
  });

  it('hides the message of internal errors but not of store outages', () => {
    const internal = new KeywardError('internal_error', { message: 'at Collection.find (/srv/app.js:1:1)' });
    expect(internal.toJSON()).toEqual({
      error: { code: 'internal_error', message: 'Something went wrong on our side.' },
    });
    const outage = new KeyStoreUnavailableError(new Error('ECONNREFUSED 10.0.0.1'));
    expect(outage.status).toBe(503);
    expect(JSON.stringify(outage.toJSON())).not.toContain('ECONNREFUSED');
    expect(outage.cause).toBeInstanceOf(Error);
    expect(outage).toBeInstanceOf(KeywardError);
    expect(outage.name).toBe('KeyStoreUnavailableError');
  });

  it('says a write may have been applied when the store cannot tell, and only then', () => {
    const unknown = new KeyStoreUnavailableError(new Error('timed out'), { mayHaveApplied: true });
    expect(unknown.status).toBe(503);
    expect(unknown.mayHaveApplied).toBe(true);
    expect(unknown.toJSON()).toEqual({
      error: {
        code: 'key_store_unavailable',
        message:
          'The key store did not confirm the change in time. It may have been applied: read the key back.',
        mayHaveApplied: true,
      },
    });
    const refused = new KeyStoreUnavailableError(new Error('ECONNREFUSED'));
    expect(refused.mayHaveApplied).toBe(false);
    expect(refused.toJSON().error).not.toHaveProperty('mayHaveApplied');
  });
});
