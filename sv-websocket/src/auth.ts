/**
 * Who a client is: from `hello` (dev mode: the claimed user; jwt mode: the HS256 token's `sub`)
 * and, for the HTTP API, from `Authorization: Bearer` or `?user=` in dev mode.
 */
import { jwtVerify } from 'jose';
import { ERR_UNAUTHORIZED } from '@chat/shared/errors';
import { USER_ID } from '@chat/shared/protocol';
import type { UserId } from '@chat/shared/types';

export interface Authenticator {
  /** The user a `hello` (or HTTP credential) proves; throws ERR_UNAUTHORIZED. */
  authenticate(cred: { user?: string | undefined; token?: string | undefined }): Promise<UserId>;
}

export function createAuthenticator(mode: 'dev' | 'jwt', secret: string | undefined): Authenticator {
  if (mode === 'dev') {
    return {
      async authenticate({ user }) {
        if (typeof user !== 'string' || !USER_ID.test(user)) {
          throw new ERR_UNAUTHORIZED('hello needs a user matching ^[A-Za-z0-9_.-]{1,64}$');
        }
        return user;
      },
    };
  }
  const key = new TextEncoder().encode(secret);
  return {
    async authenticate({ token }) {
      if (typeof token !== 'string' || token.length === 0) throw new ERR_UNAUTHORIZED('a token is required');
      let sub: unknown;
      try {
        // Only HS256: a token signed with another algorithm, or `none`, is refused.
        ({ payload: { sub } } = await jwtVerify(token, key, { algorithms: ['HS256'], requiredClaims: ['sub', 'exp'] }));
      } catch {
        throw new ERR_UNAUTHORIZED('invalid or expired token');
      }
      if (typeof sub !== 'string' || !USER_ID.test(sub)) throw new ERR_UNAUTHORIZED('token sub is not a valid user id');
      return sub;
    },
  };
}
