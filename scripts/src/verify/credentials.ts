/**
 * How the run's clients sign in. A deployment in `dev` authentication takes `hello` with a user;
 * one in `jwt` authentication needs a token signed with its AUTH_SECRET (HS256, `sub` the user),
 * which verify mints itself when AUTH_SECRET is set in its environment (an environment variable,
 * not an option, so the secret stays out of shell history and process lists).
 */
import { SignJWT } from 'jose';

export type Credentials = { user: string } | { token: string };

/** Credentials for `user`: a token valid for `validSeconds` when `secret` is given, else the dev `user`. */
export async function credentialsFor(user: string, secret: string | undefined, validSeconds: number): Promise<Credentials> {
  if (secret === undefined) return { user };
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(user)
    .setExpirationTime(Math.floor(Date.now() / 1000) + validSeconds)
    .sign(new TextEncoder().encode(secret));
  return { token };
}
