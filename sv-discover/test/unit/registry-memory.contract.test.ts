import { presenceContract, registryContract } from '@chat/shared/testing/registry-contract';
import { MemoryRegistry } from '../../src/registry-memory.ts';

registryContract('MemoryRegistry', () => new MemoryRegistry());
presenceContract('MemoryRegistry', () => new MemoryRegistry({ sweepIntervalMs: 0 }));
