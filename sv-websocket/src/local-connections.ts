/** The connections this node holds, by user: local delivery needs no network hop. */
import type { ConnId, UserId } from '@chat/shared/types';

/** What delivery needs of a socket (hocuspocus WebSocketLike): unit tests need no real socket. */
export interface ClientSocket {
  /** Send an already-encoded frame: a message is encoded once for all its recipients. */
  sendRaw(frame: string): void;
}

export interface LocalConnection {
  connId: ConnId;
  user: UserId;
  socket: ClientSocket;
}

export class LocalConnections {
  private readonly byUser = new Map<UserId, Map<ConnId, LocalConnection>>();
  private total = 0;

  get size(): number {
    return this.total;
  }

  get users(): IterableIterator<UserId> {
    return this.byUser.keys();
  }

  add(conn: LocalConnection): void {
    let conns = this.byUser.get(conn.user);
    if (!conns) this.byUser.set(conn.user, (conns = new Map()));
    if (!conns.has(conn.connId)) this.total++;
    conns.set(conn.connId, conn);
  }

  remove(conn: LocalConnection): void {
    const conns = this.byUser.get(conn.user);
    if (!conns?.delete(conn.connId)) return;
    this.total--;
    if (conns.size === 0) this.byUser.delete(conn.user);
  }

  has(user: UserId): boolean {
    return this.byUser.has(user);
  }

  /** Send `frame` to every connection of `user` except `except`; returns how many got it. */
  sendTo(user: UserId, frame: string, except?: ConnId): number {
    const conns = this.byUser.get(user);
    if (!conns) return 0;
    let n = 0;
    for (const conn of conns.values()) {
      if (conn.connId === except) continue;
      conn.socket.sendRaw(frame);
      n++;
    }
    return n;
  }

  /**
   * Send one frame to every connection of each of `users` except `except`, encoding it (`encode`)
   * only when one of them is here, and once; returns how many got it.
   */
  sendToEach(users: readonly UserId[], encode: () => string, except?: ConnId): number {
    let frame: string | undefined;
    let n = 0;
    for (const user of users) if (this.byUser.has(user)) n += this.sendTo(user, frame ??= encode(), except);
    return n;
  }

  /** Every connection, for re-registration and shutdown. */
  *all(): IterableIterator<LocalConnection> {
    for (const conns of this.byUser.values()) yield* conns.values();
  }
}
