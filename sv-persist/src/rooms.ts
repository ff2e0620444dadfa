/**
 * Rooms in Postgres: creating one, changing its members, reading rooms back, and the membership
 * probes history and read marks make. Every change is one transaction that locks the room's row
 * first (SELECT … FOR UPDATE), so changes of one room apply one after another, each checked
 * (room-rules.ts) against the members the previous one left; it bumps `version` only when members
 * changed. Nothing else writes `room_members`, so the member list read under the lock is exact.
 */
import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';
import { ERR_BAD_REQUEST } from '@chat/shared/errors';
import { newId } from '@chat/shared/ids';
import type { RoomChangeReply, RoomChangeRequest, RoomCreateRequest, RoomState } from '@chat/shared/internal-api';
import { roomOf } from '@chat/shared/types';
import { changesRoom, planRoomChange, planRoomCreate, roomAfter, type StoredRoom } from './room-rules.ts';

/** One statement: the room and its members (a data-modifying CTE always runs to completion). */
const CREATE = `WITH room AS (
  INSERT INTO rooms (id, title, owner, public, version) VALUES ($1, $2, $3, $4, 1)
)
INSERT INTO room_members (room, user_id, joined) SELECT $1, u, statement_timestamp() FROM unnest($5::text[]) AS u`;

const LOCK = 'SELECT id, title, owner, public, version FROM rooms WHERE id = $1 FOR UPDATE';
/** Join order; ties (members added by one change) by user id. */
const MEMBERS = 'SELECT user_id FROM room_members WHERE room = $1 ORDER BY joined, user_id';
/** Runs after the room's lock is held, so a later change's members always join later. */
const ADD = `INSERT INTO room_members (room, user_id, joined)
  SELECT $1, u, statement_timestamp() FROM unnest($2::text[]) WITH ORDINALITY AS t(u, ord) ORDER BY ord`;
const REMOVE = 'DELETE FROM room_members WHERE room = $1 AND user_id = ANY($2::text[])';
const BUMP = 'UPDATE rooms SET version = version + 1, owner = $2 WHERE id = $1';

/** Rooms and their members in join order, one snapshot (one statement). */
const GET = `SELECT r.id, r.title, r.owner, r.public, r.version,
    ARRAY(SELECT m.user_id FROM room_members m WHERE m.room = r.id ORDER BY m.joined, m.user_id) AS members
  FROM rooms r WHERE r.id = ANY($1::text[])`;

const IS_MEMBER = 'SELECT 1 AS member FROM room_members WHERE room = $1 AND user_id = $2';
/** Of (reader, room address) pairs $1/$2, those whose reader is a member of the room. */
const MEMBER_PAIRS = `SELECT k.reader, k.peer FROM unnest($1::text[], $2::text[]) AS k(reader, peer)
  JOIN room_members m ON m.room = substr(k.peer, 2) AND m.user_id = k.reader`;

export interface ReaderPeer { reader: string; peer: string }

interface RoomRow { id: string; title: string; owner: string; public: boolean; version: string }

function toState(r: RoomRow, members: string[]): StoredRoom {
  return { room: r.id, title: r.title, owner: r.owner, public: r.public, members, version: Number(r.version) };
}

export class RoomStore {
  /** `maxMembers`: MAX_ROOM_MEMBERS, the most members a room may have. */
  constructor(private readonly sequelize: Sequelize, private readonly maxMembers: number) {}

  /** A new room owned by `req.owner`, who is a member; version 1. */
  async create(req: RoomCreateRequest): Promise<RoomState> {
    // Postgres text cannot hold U+0000; the title is the one free text a room stores.
    if (req.title.includes('\u0000')) throw new ERR_BAD_REQUEST('title must not contain NUL characters');
    const members = planRoomCreate(req.owner, req.members, this.maxMembers);
    const id = newId();
    await this.sequelize.query(CREATE, { bind: [id, req.title, req.owner, req.public, members], type: QueryTypes.INSERT });
    return { room: id, title: req.title, owner: req.owner, public: req.public, members, version: 1 };
  }

  /** Apply one change in one transaction; the reply names the users it took out. */
  change(req: RoomChangeRequest): Promise<RoomChangeReply> {
    return this.sequelize.transaction(async (transaction) => {
      const room = await this.lockRoom(req.room, transaction);
      const plan = planRoomChange(room, req, this.maxMembers);
      // planRoomChange refuses every change of a room that does not exist.
      const before = room!;
      if (!changesRoom(plan)) return { room: before, removed: [] };
      const run = (text: string, bind: unknown[]) => this.sequelize.query(text, { bind, transaction, type: QueryTypes.RAW });
      if (plan.remove.length > 0) await run(REMOVE, [req.room, plan.remove]);
      if (plan.add.length > 0) await run(ADD, [req.room, plan.add]);
      await run(BUMP, [req.room, plan.owner]);
      return { room: roomAfter(before, plan), removed: plan.remove };
    });
  }

  /** The rooms of `ids` that exist, in the order asked, each once. */
  async get(ids: readonly string[]): Promise<RoomState[]> {
    const rows = await this.sequelize.query<RoomRow & { members: string[] }>(GET, { bind: [[...new Set(ids)]], type: QueryTypes.SELECT });
    const byId = new Map(rows.map((r) => [r.id, toState(r, r.members)]));
    return [...new Set(ids)].flatMap((id) => byId.get(id) ?? []);
  }

  /** Whether `user` is a member of `room` (one primary-key probe). */
  async isMember(room: string, user: string): Promise<boolean> {
    const rows = await this.sequelize.query(IS_MEMBER, { bind: [room, user], type: QueryTypes.SELECT });
    return rows.length > 0;
  }

  /**
   * Of (reader, peer) pairs, those naming a room (peer a room's address) whose reader is not a
   * member of it, each once. Asks the database only when a pair names a room.
   */
  async nonMembers(pairs: readonly ReaderPeer[]): Promise<ReaderPeer[]> {
    const key = (p: ReaderPeer) => `${p.reader}\n${p.peer}`;
    const asked = new Map<string, ReaderPeer>();
    for (const p of pairs) if (roomOf(p.peer) !== undefined) asked.set(key(p), { reader: p.reader, peer: p.peer });
    if (asked.size === 0) return [];
    const ps = [...asked.values()];
    const found = await this.sequelize.query<ReaderPeer>(MEMBER_PAIRS, {
      bind: [ps.map((p) => p.reader), ps.map((p) => p.peer)], type: QueryTypes.SELECT,
    });
    for (const r of found) asked.delete(key(r));
    return [...asked.values()];
  }

  private async lockRoom(id: string, transaction: Transaction): Promise<StoredRoom | undefined> {
    const [row] = await this.sequelize.query<RoomRow>(LOCK, { bind: [id], transaction, type: QueryTypes.SELECT });
    if (!row) return undefined;
    const members = await this.sequelize.query<{ user_id: string }>(MEMBERS, { bind: [id], transaction, type: QueryTypes.SELECT });
    return toState(row, members.map((m) => m.user_id));
  }
}
