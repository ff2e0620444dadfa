/** Starts one sv-websocket node: reads config, builds the node (node.ts), listens, stops on a signal. */
import { runMain } from '@chat/shared/config';
import { loadConfig } from './config.ts';
import { createNode } from './node.ts';

await runMain(async () => {
  const node = await createNode(loadConfig());
  await node.listen();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    node.logger.info({ signal }, 'shutting down');
    await node.stop();
    node.logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
});
