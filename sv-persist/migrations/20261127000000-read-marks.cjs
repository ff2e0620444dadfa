'use strict';
/**
 * read_marks: how far each user has read each conversation, one row per (reader, peer): `reader`
 * read everything from `peer` up to `seq`. A mark only moves forward (the upsert's WHERE), and its
 * key never changes, so an update is in place (HOT with fillfactor 70, no index touched).
 *
 * The unique index on messages (conv, seq) also carries `sender` (INCLUDE): a conversation's
 * unread count (the peer's messages above the reader's mark) is then a count over one range of
 * that index, answered from the index alone, instead of a heap visit per message of the range.
 * It stays one index per insert, as before. Building it blocks writes to messages for as long as
 * the build takes; sv-persist runs migrations before it serves, so nothing of ours writes then.
 */
const KEY_INDEX = 'messages_conv_seq_idx';

/**
 * Replace the (conv, seq) unique index with one of `definition`, under the same name.
 * @param {import('sequelize').QueryInterface} queryInterface
 * @param {string} definition
 * @param {import('sequelize').Transaction} transaction
 */
async function rebuildKeyIndex(queryInterface, definition, transaction) {
  const q = (sql) => queryInterface.sequelize.query(sql, { transaction });
  await q(`CREATE UNIQUE INDEX ${KEY_INDEX}_next ON messages ${definition}`);
  await q(`DROP INDEX ${KEY_INDEX}`);
  await q(`ALTER INDEX ${KEY_INDEX}_next RENAME TO ${KEY_INDEX}`);
}

/** @type {{ up: (qi: import('sequelize').QueryInterface) => Promise<void>, down: (qi: import('sequelize').QueryInterface) => Promise<void> }} */
module.exports = {
  async up(queryInterface) {
    await queryInterface.sequelize.transaction(async (transaction) => {
      await queryInterface.sequelize.query(`CREATE TABLE read_marks (
        reader text COLLATE "C" NOT NULL,
        peer text COLLATE "C" NOT NULL,
        seq bigint NOT NULL,
        PRIMARY KEY (reader, peer)
      ) WITH (fillfactor = 70)`, { transaction });
      await rebuildKeyIndex(queryInterface, '(conv, seq) INCLUDE (sender)', transaction);
    });
  },

  async down(queryInterface) {
    await queryInterface.sequelize.transaction(async (transaction) => {
      await rebuildKeyIndex(queryInterface, '(conv, seq)', transaction);
      await queryInterface.sequelize.query('DROP TABLE read_marks', { transaction });
    });
  },
};
