import assert from 'node:assert/strict';
import { Sequelize } from 'sequelize';
import { assertInternals, pgWithGuardedClients } from '../../src/sequelize-pg-internals.ts';

describe('Sequelize and pg internals the store relies on', () => {
  it('the installed Sequelize has the connection manager the prepared inserts borrow from', async () => {
    const sequelize = new Sequelize('postgres://u:p@127.0.0.1:1/x', { dialect: 'postgres', logging: false });
    try {
      assert.doesNotThrow(() => assertInternals(sequelize));
    } finally {
      await sequelize.close();
    }
  });

  it('refuses, naming the adapter, a Sequelize whose connection manager lacks them', () => {
    const changed = { getDialect: () => 'postgres', connectionManager: { getConnection: async () => ({}) } } as unknown as Sequelize;
    assert.throws(() => assertInternals(changed), /no getConnection\/releaseConnection .*sequelize-pg-internals\.ts/);
  });

  it('every pg client made through the guarded module carries an error listener, so an error event cannot crash the process', () => {
    const pg = pgWithGuardedClients() as { Client: new (config: object) => NodeJS.EventEmitter; types: unknown };
    const client = new pg.Client({});
    assert.equal(client.listenerCount('error'), 1);
    assert.doesNotThrow(() => client.emit('error', new Error('terminating connection due to administrator command')));
    assert.ok(pg.types, 'the rest of pg is still reachable');
  });
});
