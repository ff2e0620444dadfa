/** Service processes for integration tests: started like `npm start` does, stopped after the run. */
import { startService as start, type ServiceProcess, type StartOptions, SERVICE_MAIN } from '@chat/shared/service-process';
import { onStop } from '@chat/shared/started-services';

export type { ServiceProcess };

export async function startService(service: keyof typeof SERVICE_MAIN, env: Record<string, string>, opts?: StartOptions): Promise<ServiceProcess> {
  const proc = await start(service, env, opts);
  onStop(() => proc.stop());
  return proc;
}
