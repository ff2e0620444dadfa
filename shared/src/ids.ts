import { v7 } from 'uuid';

/** A new message or connection id: UUIDv7, so ids sort by creation time. */
export function newId(): string {
  return v7();
}
