import { describe, expect, it } from 'vitest';
import { toServerUri, withDatabase } from './mongo-uri.js';

describe('toServerUri', () => {
  it('drops the database name and keeps the query', () => {
    expect(toServerUri('mongodb://127.0.0.1:27017/app?replicaSet=rs&w=majority')).toBe(
      'mongodb://127.0.0.1:27017/?replicaSet=rs&w=majority',
    );
    expect(toServerUri('mongodb://h1:1,h2:2')).toBe('mongodb://h1:1,h2:2/');
  });

  it('turns the database of a URI with credentials into authSource so authentication still works', () => {
    expect(toServerUri('mongodb://u:p@h/app')).toBe('mongodb://u:p@h/?authSource=app');
    expect(toServerUri('mongodb://u:p@h/app?tls=true&authSource=admin')).toBe(
      'mongodb://u:p@h/?tls=true&authSource=admin',
    );
  });

  it('rejects what is not a MongoDB connection string', () => {
    expect(() => toServerUri('http://localhost:27017/')).toThrow(TypeError);
  });
});

describe('withDatabase', () => {
  it('puts the name between the hosts and the query', () => {
    expect(withDatabase('mongodb+srv://u:p@cluster.example.net/?retryWrites=true', 'kw_a')).toBe(
      'mongodb+srv://u:p@cluster.example.net/kw_a?retryWrites=true',
    );
    expect(withDatabase('mongodb://127.0.0.1:4000/', 'kw_b')).toBe('mongodb://127.0.0.1:4000/kw_b');
  });

  it.each(['', 'a.b', 'a/b', 'a b', 'a$b', 'x'.repeat(64)])('rejects the database name %j', (name) => {
    expect(() => withDatabase('mongodb://127.0.0.1:4000/', name)).toThrow(TypeError);
  });
});
