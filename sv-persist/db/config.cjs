'use strict';
/**
 * sequelize-cli connection config. The URL comes from the environment (never argv, where `ps`
 * would show the password); sv-persist's migrate.ts sets it when it runs the CLI.
 * By hand: `DATABASE_URL=postgres://… npx sequelize-cli db:migrate` from sv-persist/.
 */
const entry = { use_env_variable: 'DATABASE_URL', dialect: 'postgres', logging: false };
module.exports = { development: entry, test: entry, production: entry };
