/** Mocha root hooks: stop the services the harness started, once, after every test file ran. */
import { stopStartedServices } from '@chat/shared/started-services';

export const mochaHooks = {
  async afterAll(): Promise<void> {
    await stopStartedServices();
  },
};
