/**
 * Which subscription strategy costs an instance less (decision 018): one SUBSCRIBE per room it has
 * subscribers in, or one PSUBSCRIBE to every room. A child process publishes MESSAGES events of a
 * realistic size round-robin over ROOMS rooms; this process subscribes to LOCAL of them, either way,
 * and reports its own CPU time and how many messages it had to receive.
 *
 *   npx tsx bench/pubsub-subscription.ts   (REDIS_URL, default redis://127.0.0.1:6379)
 */
import { spawn } from 'node:child_process';
import { createClient } from 'redis';

const url = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const ROOMS = 1000;
const LOCAL = 50;
const MESSAGES = 50_000;
const prefix = `atlas-bench:${process.pid}:room:`;

async function run(strategy: 'channels' | 'pattern') {
  const subscriber = createClient({ url });
  await subscriber.connect();
  let received = 0;
  let relevant = 0;
  const local = new Set(Array.from({ length: LOCAL }, (_, index) => `${prefix}${index * (ROOMS / LOCAL)}`));
  const onMessage = (raw: string, channel: string) => {
    received += 1;
    if (!local.has(channel)) return; // a pattern brings every room: dropped here
    JSON.parse(raw);
    relevant += 1;
  };
  if (strategy === 'channels') await subscriber.subscribe([...local], onMessage);
  else await subscriber.pSubscribe(`${prefix}*`, (raw, channel) => onMessage(raw, channel));

  const publisher = `
    const { createClient } = require('redis');
    (async () => {
      const c = createClient({ url: ${JSON.stringify(url)} });
      await c.connect();
      const body = JSON.stringify({ o: 'x', e: { type: 'message', message: { id: 1, room: 'r', seq: 1, author: 'someone', text: 'a message of ordinary length, about eighty characters long....', createdAt: new Date().toISOString(), clientId: null } } });
      for (let i = 0; i < ${MESSAGES}; i += 500) {
        await Promise.all(Array.from({ length: 500 }, (_, j) => c.publish(${JSON.stringify(prefix)} + ((i + j) % ${ROOMS}), body)));
      }
      await c.close();
    })();`;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', publisher], { stdio: 'inherit' });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`publisher exited ${code}`))));
  });
  // Let the last messages arrive.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000;
  console.info(
    `${strategy.padEnd(8)}: received ${received} (${relevant} for local rooms) of ${MESSAGES} published over ${ROOMS} rooms, subscriber CPU ${cpuMs.toFixed(0)} ms in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  await subscriber.close();
}

await run('channels');
await run('pattern');
