'use strict';
/**
 * Key columns compare bytewise (COLLATE "C"), whatever the database's default collation. Ids,
 * conversation keys and cids are identifiers, never sorted for people, and every insert compares
 * them in three B-trees (messages (sender, cid), messages (conv, seq), conversations (conv)).
 * Under a libc collation each comparison is a strcoll call: with the database's C.UTF-8 about a
 * tenth of the insert's time in Postgres (perf), more under en_US.UTF-8. Equality, and so every
 * unique key and every lookup, means the same under both. Changing a column's collation keeps the
 * table and rebuilds the indexes on it.
 */
const COLUMNS = {
  messages: ['conv', 'sender', 'recipient', 'cid'],
  conversations: ['conv', 'user_a', 'user_b'],
};

async function setCollation(queryInterface, collation) {
  await queryInterface.sequelize.transaction(async (transaction) => {
    for (const [table, columns] of Object.entries(COLUMNS)) {
      const alter = columns.map((c) => `ALTER COLUMN ${c} TYPE text COLLATE ${collation}`).join(', ');
      await queryInterface.sequelize.query(`ALTER TABLE ${table} ${alter}`, { transaction });
    }
  });
}

/** @type {{ up: (qi: import('sequelize').QueryInterface) => Promise<void>, down: (qi: import('sequelize').QueryInterface) => Promise<void> }} */
module.exports = {
  up: (queryInterface) => setCollation(queryInterface, '"C"'),
  down: (queryInterface) => setCollation(queryInterface, 'pg_catalog."default"'),
};
