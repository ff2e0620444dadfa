/** Watching users from a test client, and what it was told of them. */
import type { PresenceFrame } from '@chat/shared/protocol';
import type { TestClient } from '@chat/shared/protocol-client';
import { metricValue } from './faults.ts';

/** The last `presence` frame a client got for each user, kept as frames arrive (whether or not `next` took them). */
export function presenceSeen(client: TestClient): Map<string, PresenceFrame> {
  const latest = new Map<string, PresenceFrame>();
  client.ws.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as { type?: string };
    if (frame.type === 'presence') latest.set((frame as PresenceFrame).user, frame as PresenceFrame);
  });
  return latest;
}

/** Watch `users` and wait for the answer about each. */
export async function watch(client: TestClient, users: string[]): Promise<Map<string, PresenceFrame>> {
  client.send({ type: 'watch', users });
  const answers = new Map<string, PresenceFrame>();
  for (const user of users) answers.set(user, await client.next('presence', (p) => p.user === user));
  return answers;
}

/** Presence states a node received from discovery (its chat_presence_changes_received_total). */
export async function presenceReceived(nodeUrl: string): Promise<number> {
  return (await metricValue(nodeUrl, 'chat_presence_changes_received_total')) ?? 0;
}
