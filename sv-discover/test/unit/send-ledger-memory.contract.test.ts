import { sendLedgerContract } from '@chat/shared/testing/send-ledger-contract';
import { MemorySendLedger } from '../../src/send-ledger-memory.ts';

sendLedgerContract('MemorySendLedger', (ttlMs) => new MemorySendLedger({ ttlMs, maxEntries: 10_000 }));
