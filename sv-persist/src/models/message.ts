/**
 * Sequelize model of the `messages` table (schema owned by migrations/, not by sync()).
 * Stays inside sv-persist: no model crosses the MessageStore port.
 */
import { DataTypes, type Model, type ModelStatic, type Sequelize } from 'sequelize';

export interface MessageAttributes {
  id: string;
  /** From a database sequence at insert; bigint, so pg returns it as a string. */
  seq?: string;
  conv: string;
  sender: string;
  recipient: string;
  cid: string;
  body: string;
  ts: number;
}

export type MessageModel = ModelStatic<Model<MessageAttributes>>;

/** Columns an insert sets; `seq` is left to its column default (nextval). */
export const INSERT_FIELDS = ['id', 'conv', 'sender', 'recipient', 'cid', 'body', 'ts'] as const;

/** Define the model on `sequelize`; `define`, not a class `init`, so two stores in one process never share a model. */
export function defineMessageModel(sequelize: Sequelize): MessageModel {
  return sequelize.define<Model<MessageAttributes>>(
    'Message',
    {
      id: { type: DataTypes.UUID, primaryKey: true },
      seq: { type: DataTypes.BIGINT, allowNull: false },
      conv: { type: DataTypes.TEXT, allowNull: false },
      sender: { type: DataTypes.TEXT, allowNull: false },
      recipient: { type: DataTypes.TEXT, allowNull: false },
      cid: { type: DataTypes.TEXT, allowNull: false },
      body: { type: DataTypes.TEXT, allowNull: false },
      ts: { type: DataTypes.BIGINT, allowNull: false },
    },
    {
      tableName: 'messages', timestamps: false,
      indexes: [{ unique: true, fields: ['sender', 'cid'] }, { unique: true, fields: ['conv', 'seq'] }],
    },
  );
}
