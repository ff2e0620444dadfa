/** History (of a peer or a room) and conversation lists come from sv-persist, which owns the queries and room membership. */
import { Failover } from '@chat/shared/failover';
import type { InternalClient } from '@chat/shared/internal-client';
import { ROUTES, type HistoryQuery } from '@chat/shared/internal-api';
import { HISTORY_DEFAULT_LIMIT, type ConversationItem, type HistoryPage } from '@chat/shared/protocol';
import type { UserId } from '@chat/shared/types';
import { runUnlessRefused } from './persist-refusals.ts';

export class HistoryClient {
  private readonly targets: Failover;

  constructor(private readonly client: InternalClient, persistUrls: readonly string[]) {
    this.targets = new Failover(persistUrls);
  }

  history(p: HistoryQuery): Promise<HistoryPage> {
    const q = new URLSearchParams({ user: p.user, with: p.with, limit: String(p.limit ?? HISTORY_DEFAULT_LIMIT) });
    if (p.before !== undefined) q.set('before', String(p.before));
    if (p.after !== undefined) q.set('after', String(p.after));
    // A room's history refused (not a member) is `forbidden`, not an outage.
    return runUnlessRefused(this.targets, (base) => this.client.get<HistoryPage>(base, `${ROUTES.persistHistory}?${q}`));
  }

  async conversations(user: UserId, limit?: number): Promise<ConversationItem[]> {
    const q = new URLSearchParams({ user });
    if (limit !== undefined) q.set('limit', String(limit));
    const reply = await this.targets.run((base) => this.client.get<{ items: ConversationItem[] }>(base, `${ROUTES.persistConversations}?${q}`));
    return reply.items;
  }
}
