import { expect } from 'vitest';
import { parseConfig } from '../server/config.ts';
import { createStore } from '../server/store/create-store.ts';
import { StoreUnavailableError } from '../server/store/errors.ts';
import { describePostgres } from './support/postgres.ts';
import { storeTest as test } from './support/stores.ts';

test('createStore opens SQLite when DATABASE_URL is unset', async () => {
  const store = await createStore(parseConfig({ DATABASE_PATH: ':memory:' }));
  try {
    expect(store.description).toBe('sqlite :memory:');
    await expect(store.ping()).resolves.toBeUndefined();
  } finally {
    await store.close();
  }
});

describePostgres('createStore with DATABASE_URL', () => {
  test('opens PostgreSQL, describing it without the password', async ({ postgres }) => {
    const { url, name } = await postgres.get();
    const withPassword = new URL(url);
    withPassword.password = 'not-needed-with-trust-auth';
    const store = await createStore(parseConfig({ DATABASE_URL: withPassword.toString(), DATABASE_POOL_SIZE: '2' }));
    try {
      expect(store.description).toBe(`postgres 127.0.0.1:5432/${name}`);
      await expect(store.ping()).resolves.toBeUndefined();
    } finally {
      await store.close();
    }
  });

  test('rejects with StoreUnavailableError when the server cannot be reached', async () => {
    await expect(
      createStore(parseConfig({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/atlas' })),
    ).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});
