'use strict';
/**
 * messages: one row per (sender, cid), whatever is retried or replayed: a client that lost its
 * ack resends with the same cid, and history must still hold the message once.
 * seq defaults to a sequence: with one writer and one batch in flight, nextval order is commit
 * order, so seq strictly increases within each conversation; it need not be contiguous (clients
 * page by seq and never count on consecutive values), so gaps are harmless.
 * conversation_heads: the last message of each (user, peer), kept in the insert's transaction,
 * so `conversations` is one keyed index scan.
 */
/** @type {{ up: (qi: import('sequelize').QueryInterface) => Promise<void>, down: (qi: import('sequelize').QueryInterface) => Promise<void> }} */
module.exports = {
  async up(queryInterface) {
    await queryInterface.sequelize.transaction(async (transaction) => {
      const q = (sql) => queryInterface.sequelize.query(sql, { transaction });
      await q('CREATE SEQUENCE messages_seq AS bigint');
      await q(`CREATE TABLE messages (
        id uuid PRIMARY KEY,
        seq bigint NOT NULL DEFAULT nextval('messages_seq'),
        conv text NOT NULL,
        sender text NOT NULL,
        recipient text NOT NULL,
        cid text NOT NULL,
        body text NOT NULL,
        ts bigint NOT NULL,
        CONSTRAINT messages_sender_cid_key UNIQUE (sender, cid)
      )`);
      await q('ALTER SEQUENCE messages_seq OWNED BY messages.seq');
      await q('CREATE UNIQUE INDEX messages_conv_seq_idx ON messages (conv, seq)');
      await q(`CREATE TABLE conversation_heads (
        user_id text NOT NULL,
        peer text NOT NULL,
        last_seq bigint NOT NULL,
        last_ts bigint NOT NULL,
        last_message_id uuid NOT NULL,
        PRIMARY KEY (user_id, peer)
      )`);
      await q('CREATE INDEX conversation_heads_user_ts_idx ON conversation_heads (user_id, last_ts DESC, peer)');
    });
  },

  async down(queryInterface) {
    await queryInterface.sequelize.transaction(async (transaction) => {
      await queryInterface.sequelize.query('DROP TABLE conversation_heads', { transaction });
      await queryInterface.sequelize.query('DROP TABLE messages', { transaction });
    });
  },
};
