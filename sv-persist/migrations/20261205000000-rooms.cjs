'use strict';
/**
 * Rooms (group conversations): `rooms` holds each room and its `version`, which every change of
 * its members bumps, so nodes can cache a member list by version; `room_members` one row per room
 * and member. A change locks its room's row (SELECT … FOR UPDATE) for its whole transaction, so
 * changes of one room apply one at a time and each sees the members the previous one left.
 *
 * A room's messages are stored like any conversation's, keyed by its address ('#' and its id) in
 * messages.conv and messages.recipient; nothing here refers to them, so a room that loses every
 * member keeps its history. `room_members_user_idx` lists a user's rooms (`conversations`).
 * Keys compare bytewise (COLLATE "C"), as every other key column does.
 */
/** @type {{ up: (qi: import('sequelize').QueryInterface) => Promise<void>, down: (qi: import('sequelize').QueryInterface) => Promise<void> }} */
module.exports = {
  async up(queryInterface) {
    await queryInterface.sequelize.transaction(async (transaction) => {
      const q = (sql) => queryInterface.sequelize.query(sql, { transaction });
      await q(`CREATE TABLE rooms (
        id text COLLATE "C" PRIMARY KEY,
        title text NOT NULL,
        owner text COLLATE "C" NOT NULL,
        public boolean NOT NULL,
        version bigint NOT NULL,
        created timestamptz NOT NULL DEFAULT now()
      )`);
      await q(`CREATE TABLE room_members (
        room text COLLATE "C" NOT NULL REFERENCES rooms (id),
        user_id text COLLATE "C" NOT NULL,
        joined timestamptz NOT NULL,
        PRIMARY KEY (room, user_id)
      )`);
      await q('CREATE INDEX room_members_user_idx ON room_members (user_id, room)');
    });
  },

  async down(queryInterface) {
    await queryInterface.sequelize.transaction(async (transaction) => {
      await queryInterface.sequelize.query('DROP TABLE room_members', { transaction });
      await queryInterface.sequelize.query('DROP TABLE rooms', { transaction });
    });
  },
};
