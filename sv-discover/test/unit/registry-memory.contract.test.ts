import { registryContract } from '@chat/shared/testing/registry-contract';
import { MemoryRegistry } from '../../src/registry-memory.ts';

registryContract('MemoryRegistry', () => new MemoryRegistry());
