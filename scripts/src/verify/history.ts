/**
 * Reading every conversation of the run back from the store, as a client reloading it would: one
 * fresh client per conversation (not the run's own, whose bookkeeping is what is checked), paging
 * with `history after` from the start while `more` says so. In Kafka mode history lags the ack,
 * so a conversation that does not hold everything acked yet is read again until it does or the
 * settle time is over.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { ChatClient } from '@chat/shared/client/chat-client.js';
import type { WireMessage } from '@chat/shared/protocol';
import type { Credentials } from './credentials.ts';

const PAGE = 200;
const ATTEMPTS = 3;
const REREAD_MS = 1000;
const PARALLEL = 8;

export interface Conversation {
  /** The user whose client reads it, and the other one. */
  owner: string;
  peer: string;
  /** Every message, in the order the pages gave them. */
  messages: WireMessage[];
  pages: number;
}

/** Every message, page by page from the start (every seq is at least 1). */
async function readWhole(client: ChatClient, peer: string): Promise<{ messages: WireMessage[]; pages: number }> {
  const messages: WireMessage[] = [];
  let pages = 0;
  for (let after = 0; ;) {
    const page = await client.history(peer, { after, limit: PAGE });
    pages++;
    messages.push(...page.messages);
    const last = page.messages[page.messages.length - 1];
    if (!page.more || !last) return { messages, pages };
    after = last.seq;
  }
}

async function readOne(conv: Conversation, urls: string[], credentials: Credentials): Promise<void> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const client = new ChatClient({ urls, ...credentials, WebSocket });
    try {
      await client.connect();
      Object.assign(conv, await readWhole(client, conv.peer));
      return;
    } catch (err) {
      lastError = err;
    } finally {
      client.close();
    }
  }
  throw new Error(`could not read the conversation of ${conv.owner} and ${conv.peer}: ${(lastError as Error).message}`);
}

export interface ReadOptions {
  urls: string[];
  /** [owner, peer] of each conversation. */
  pairs: [string, string][];
  credentials: (user: string) => Promise<Credentials>;
  /** False while a conversation still lacks something it should hold. */
  complete: (conv: Conversation) => boolean;
  settleMs: number;
}

/** Read every conversation; re-read the incomplete ones until complete or `settleMs` has passed. */
export async function readConversations(o: ReadOptions): Promise<Conversation[]> {
  const all: Conversation[] = o.pairs.map(([owner, peer]) => ({ owner, peer, messages: [], pages: 0 }));
  const deadline = Date.now() + o.settleMs;
  for (let todo = all; ;) {
    for (let i = 0; i < todo.length; i += PARALLEL) {
      await Promise.all(todo.slice(i, i + PARALLEL).map(async (c) => readOne(c, o.urls, await o.credentials(c.owner))));
    }
    todo = all.filter((c) => !o.complete(c));
    if (todo.length === 0 || Date.now() >= deadline) return all;
    await sleep(REREAD_MS);
  }
}
