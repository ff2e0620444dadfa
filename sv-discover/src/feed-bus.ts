/**
 * How what one sv-discover instance learns reaches the change-feed subscribers of every instance:
 * in process (one instance, memory registry), or over Redis pub/sub, one channel per kind of
 * change (`<prefix>changes`, `<prefix>presence`), when several instances share one Redis. When the
 * subscription comes back after a drop, or a publish fails, messages may have been lost; `onLost`
 * then tells the feed, which has its subscribers start afresh.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '@chat/shared/logger';

/** Receives what any instance published on a channel; a payload from Redis is untrusted JSON. */
export type ChannelHandler = (payload: unknown) => void;

export class FeedBus {
  private readonly channels = new Map<string, ChannelHandler>();
  private publishTo: (name: string, payload: unknown) => void = (name, payload) => this.channels.get(name)?.(payload);
  private closeSubscription: () => Promise<void> = async () => undefined;

  constructor(private readonly logger: Logger, private readonly onLost: () => void) {}

  /** Channel `name`: the returned function publishes to `deliver` on every instance. Register before `useRedis`. */
  channel<T>(name: string, deliver: ChannelHandler): (payload: T) => void {
    this.channels.set(name, deliver);
    return (payload) => this.publishTo(name, payload);
  }

  /** Carry every channel over Redis pub/sub as `<prefix><name>`. */
  async useRedis(redis: Redis, prefix: string): Promise<void> {
    const sub = redis.duplicate();
    sub.on('error', (err) => this.logger.warn({ err }, 'change feed subscription error'));
    let readyOnce = false;
    sub.on('ready', () => {
      // ioredis subscribes again by itself; what was published meanwhile is lost.
      if (readyOnce) this.onLost();
      readyOnce = true;
    });
    sub.on('message', (channel: string, text: string) => {
      const deliver = channel.startsWith(prefix) ? this.channels.get(channel.slice(prefix.length)) : undefined;
      if (!deliver) return;
      let payload: unknown;
      try {
        payload = JSON.parse(text);
      } catch {
        return this.logger.warn({ channel }, 'change feed: a message that is not JSON was ignored');
      }
      deliver(payload);
    });
    await sub.subscribe(...[...this.channels.keys()].map((name) => prefix + name));
    this.publishTo = (name, payload) => {
      redis.publish(prefix + name, JSON.stringify(payload)).catch((err: unknown) => {
        this.logger.warn({ err, channel: prefix + name }, 'change feed: publish failed; nodes are told to reset');
        this.onLost();
      });
    };
    this.closeSubscription = async () => { await sub.quit().catch(() => undefined); };
  }

  close(): Promise<void> {
    return this.closeSubscription();
  }
}
