import { Kafka, logLevel } from 'kafkajs';
import { startTestKafka, uniqueTopic } from '@chat/shared/testing/kafka';
import { stopStartedServices } from '@chat/shared/testing/services';
const k = await startTestKafka();
console.log(k.brokers);
const kafka = new Kafka({ brokers: k.brokers, logLevel: logLevel.WARN, clientId: 'probe' });
const admin = kafka.admin();
await admin.connect();
const t1 = uniqueTopic('probe');
try {
  const t0 = Date.now();
  const r = await admin.createTopics({ topics: [{ topic: t1, numPartitions: 6 }], waitForLeaders: true, timeout: 3000 });
  console.log('createTopics', r, Date.now() - t0);
} catch (e) { console.log('createTopics err', (e as Error).name, (e as Error).message); }
try { const md = await admin.fetchTopicMetadata({ topics: [t1] }); console.log(JSON.stringify(md)); } catch (e) { console.log('md err', (e as Error).name, (e as Error).message); }
const t2 = uniqueTopic('probe');
await k.createTopic(t2, 6);
const md2 = await admin.fetchTopicMetadata({ topics: [t2] }); console.log(md2.topics[0]!.partitions.length);
try { const md = await admin.fetchTopicMetadata({ topics: ['nonexist-xyz'] }); console.log('nonexist', JSON.stringify(md)); } catch (e) { console.log('md nonexist err', (e as Error).name, (e as Error).message); }
const p = kafka.producer({ allowAutoTopicCreation: true });
await p.connect();
const r = await p.send({ topic: t2, acks: -1, messages: [{ key: 'a', value: '1', partition: 0 }, { key: 'b', value: '2', partition: 3 }, { key: 'a', value: '3', partition: 0 }] });
console.log(r);
const r2 = await p.send({ topic: t2, acks: -1, messages: [{ key: 'a', value: '1', partition: 0 }] });
console.log(r2);
await k.setDown(true);
const t0 = Date.now();
try { await p.send({ topic: t2, acks: -1, timeout: 1000, messages: [{ key: 'a', value: '1', partition: 0 }] }); console.log('sent while down?!'); } catch (e) { console.log('down err', (e as Error).name, (e as Error).message, Date.now() - t0); }
await k.setDown(false);
const t3 = Date.now();
try { console.log(await p.send({ topic: t2, acks: -1, messages: [{ key: 'a', value: '1', partition: 0 }] }), Date.now() - t3); } catch (e) { console.log('after up err', (e as Error).name, (e as Error).message); }
await p.disconnect(); await admin.disconnect();
await stopStartedServices();
