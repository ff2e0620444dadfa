/**
 * The builders of the server's frames (docs/protocol.md); protocol.ts re-exports them.
 */
import { clientErrorMessage, errorAnswer } from './errors.ts';
import type { Ack, ErrorFrame, InternalMessage, MessageFrame, PresenceFrame, ReadFrame, RoomFrame, TypingFrame, WireMessage, WirePresence, WireRoom } from './protocol.ts';
import { roomOf } from './types.ts';

/*
 * The builders of every message and ack on the wire. A message's fields go in one order
 * everywhere (id, seq, cid, from, to, body, ts), so the same message always encodes the same.
 */

/** A stored message as `history` and `conversations` replies carry it: a room's with `room`, not `to`. */
export function toWireMessage(m: InternalMessage): WireMessage {
  const room = roomOf(m.to);
  return room === undefined
    ? { id: m.id, seq: m.seq, cid: m.cid, from: m.from, to: m.to, body: m.body, ts: m.ts }
    : { id: m.id, seq: m.seq, cid: m.cid, from: m.from, room, body: m.body, ts: m.ts };
}

/**
 * The encoded `message` frame of a delivered message, built in one object (no spread of a
 * `toWireMessage` copy): it runs once per delivery, and one encoding serves every socket.
 */
export function encodeMessageFrame(m: InternalMessage): string {
  const room = roomOf(m.to);
  const frame: MessageFrame = room === undefined
    ? { type: 'message', id: m.id, seq: m.seq, cid: m.cid, from: m.from, to: m.to, body: m.body, ts: m.ts }
    : { type: 'message', id: m.id, seq: m.seq, cid: m.cid, from: m.from, room, body: m.body, ts: m.ts };
  return JSON.stringify(frame);
}

/** The `room` frame of a room's state; `cid` only for the creator's answer to `room_create`. */
export function roomFrame(r: WireRoom, cid?: string): RoomFrame {
  const frame: RoomFrame = { type: 'room', room: r.room, title: r.title, owner: r.owner, public: r.public, members: r.members };
  if (cid !== undefined) frame.cid = cid;
  return frame;
}

/** The encoded `presence` frame of a user's state: encoded once for every connection watching them. */
export function encodePresenceFrame(p: WirePresence): string {
  const frame: PresenceFrame = { type: 'presence', user: p.user, online: p.online, last_seen: p.last_seen };
  return JSON.stringify(frame);
}

/** The `ack` of an accepted `send`: its `cid`, and the id, seq and ts the log gave the message. */
export function ackFrame(cid: string, accepted: Pick<Ack, 'id' | 'seq' | 'ts'>): Ack {
  return { type: 'ack', cid, id: accepted.id, seq: accepted.seq, ts: accepted.ts };
}

/** The `typing` frame the recipient gets, built in one field order like every frame. */
export function typingFrame(from: string): TypingFrame {
  return { type: 'typing', from };
}

/**
 * The `read` frame the peer and the reader's other connections get when a read mark moved; for a
 * room's mark (`withUser` a room's address) it names the room, and goes to the reader's other
 * connections only.
 */
export function readFrame(by: string, withUser: string, seq: number): ReadFrame {
  const room = roomOf(withUser);
  return room === undefined ? { type: 'read', by, with: withUser, seq } : { type: 'read', by, room, seq };
}

/** The `error` frame of any failure; `cid` names the `send` it refuses, when there is one. */
export function errorFrame(err: unknown, cid?: string): ErrorFrame {
  const { code } = errorAnswer(err);
  const message = clientErrorMessage(err, code);
  return cid === undefined ? { type: 'error', code, message } : { type: 'error', code, message, cid };
}
