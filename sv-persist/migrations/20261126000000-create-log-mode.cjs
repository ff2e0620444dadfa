'use strict';
/**
 * log_mode: which message log last wrote `seq`s into this database (direct mode's sequence, or
 * Kafka offsets under a generation), so a persister started in another mode can keep seq
 * increasing per conversation or refuse with a clear message (see sv-persist/src/seq-guard.ts).
 */
/** @type {{ up: (qi: import('sequelize').QueryInterface) => Promise<void>, down: (qi: import('sequelize').QueryInterface) => Promise<void> }} */
module.exports = {
  async up(queryInterface) {
    await queryInterface.sequelize.query(`CREATE TABLE log_mode (
      id smallint PRIMARY KEY CHECK (id = 1),
      mode text NOT NULL CHECK (mode IN ('direct', 'kafka')),
      generation integer NOT NULL
    )`);
  },
  async down(queryInterface) {
    await queryInterface.sequelize.query('DROP TABLE log_mode');
  },
};
