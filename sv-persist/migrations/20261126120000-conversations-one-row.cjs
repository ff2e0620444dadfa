'use strict';
/**
 * conversations: one row per conversation (its key `conv`, its two users, its last message),
 * replacing conversation_heads (one row per user and peer, so two per conversation, both moved by
 * every message, and a second index on each). Every insert moves the heads of its batch's
 * conversations, and that upsert was about half of the insert statement's time; one row per
 * conversation, updated in place (no indexed column changes, and fillfactor 70 leaves room on
 * the page: a HOT update, no index touched), took a Kafka-mode insert of 2,000-row batches from
 * about 34k to 41–45k rows/s (docs/benchmarks.md). `conversations` for a user reads the rows
 * where the user is either side (an index on each) and sorts them by the last message's ts.
 */
/** @type {{ up: (qi: import('sequelize').QueryInterface) => Promise<void>, down: (qi: import('sequelize').QueryInterface) => Promise<void> }} */
module.exports = {
  async up(queryInterface) {
    await queryInterface.sequelize.transaction(async (transaction) => {
      const q = (sql) => queryInterface.sequelize.query(sql, { transaction });
      await q(`CREATE TABLE conversations (
        conv text PRIMARY KEY,
        user_a text NOT NULL,
        user_b text NOT NULL,
        last_seq bigint NOT NULL,
        last_ts bigint NOT NULL,
        last_message_id uuid NOT NULL
      ) WITH (fillfactor = 70)`);
      await q('CREATE INDEX conversations_user_a_idx ON conversations (user_a)');
      await q('CREATE INDEX conversations_user_b_idx ON conversations (user_b)');
      // Both heads of a conversation name its last message; its row gives the conversation's key.
      await q(`INSERT INTO conversations (conv, user_a, user_b, last_seq, last_ts, last_message_id)
        SELECT DISTINCT ON (m.conv) m.conv, m.sender, m.recipient, h.last_seq, h.last_ts, h.last_message_id
        FROM conversation_heads h JOIN messages m ON m.id = h.last_message_id
        ORDER BY m.conv, h.last_seq DESC`);
      await q('DROP TABLE conversation_heads');
    });
  },

  async down(queryInterface) {
    await queryInterface.sequelize.transaction(async (transaction) => {
      const q = (sql) => queryInterface.sequelize.query(sql, { transaction });
      await q(`CREATE TABLE conversation_heads (
        user_id text NOT NULL,
        peer text NOT NULL,
        last_seq bigint NOT NULL,
        last_ts bigint NOT NULL,
        last_message_id uuid NOT NULL,
        PRIMARY KEY (user_id, peer)
      )`);
      await q(`INSERT INTO conversation_heads (user_id, peer, last_seq, last_ts, last_message_id)
        SELECT user_a, user_b, last_seq, last_ts, last_message_id FROM conversations
        UNION ALL
        SELECT user_b, user_a, last_seq, last_ts, last_message_id FROM conversations WHERE user_a <> user_b`);
      await q('CREATE INDEX conversation_heads_user_ts_idx ON conversation_heads (user_id, last_ts DESC, peer)');
      await q('DROP TABLE conversations');
    });
  },
};
