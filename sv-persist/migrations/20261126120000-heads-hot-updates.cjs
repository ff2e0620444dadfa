'use strict';
/**
 * conversation_heads moves on every message, twice (one row per side). Its second index,
 * (user_id, last_ts DESC, peer), made each of those moves a new tuple plus an entry in both
 * indexes; without it, and with room left on each page (fillfactor 70), Postgres updates the row
 * in place (a HOT update: no index touched). Measured on the insert of 600-message batches: about
 * 21k rows/s before, 26–31k after (docs/benchmarks.md). `conversations` now reads a user's heads
 * through the primary key (user_id, peer) and sorts them: a top-N sort of that user's rows.
 */
/** @type {{ up: (qi: import('sequelize').QueryInterface) => Promise<void>, down: (qi: import('sequelize').QueryInterface) => Promise<void> }} */
module.exports = {
  async up(queryInterface) {
    await queryInterface.sequelize.transaction(async (transaction) => {
      const q = (sql) => queryInterface.sequelize.query(sql, { transaction });
      await q('DROP INDEX conversation_heads_user_ts_idx');
      // Applies to pages written from now on; existing pages get the room as they are rewritten.
      await q('ALTER TABLE conversation_heads SET (fillfactor = 70)');
    });
  },
  async down(queryInterface) {
    await queryInterface.sequelize.transaction(async (transaction) => {
      const q = (sql) => queryInterface.sequelize.query(sql, { transaction });
      await q('ALTER TABLE conversation_heads RESET (fillfactor)');
      await q('CREATE INDEX conversation_heads_user_ts_idx ON conversation_heads (user_id, last_ts DESC, peer)');
    });
  },
};
