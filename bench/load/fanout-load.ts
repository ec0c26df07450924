import { Agent, request } from 'node:http';
import { runAsChild } from '../lib/load-child.ts';
import { type CpuCost, cpuPerOperation, measureIdleCpu, windowMeter } from '../lib/processes.ts';
import { type LatencySummary, summarizeLatencies } from '../lib/stats.ts';
import { inBatches, messageOf, openTrpcSocket, type TrpcFrame, type TrpcSocket } from '../lib/trpc-ws.ts';

export interface FanoutConfig {
  wsUrl: string;
  /**
   * Several servers' WebSocket URLs (the shared-mode bench): subscriber i connects to
   * wsUrls[i % length], so two URLs split them half and half. Default: [wsUrl].
   */
  wsUrls?: string[];
  /** Where messages are posted: messages.post on atlas-chat, /publish on the ws baseline. */
  postUrl: string;
  postHeaders: Record<string, string>;
  room: string;
  /** One token per subscriber (tokens may repeat: several connections of one user, like tabs). */
  tokens: string[];
  /**
   * Before the fan-out: this many distinct users subscribe to another room at once (as after a
   * server restart), are timed until the server falls quiet, and leave again.
   */
  joinStorm: { room: string; tokens: string[] } | null;
  connectConcurrency: number;
  /** Messages posted but not yet received by every subscriber, at saturation. */
  window: number;
  warmupMs: number;
  saturationMs: number;
  latencyMs: number;
  /** Messages/s for the latency phase; default: half the saturation rate just measured. */
  latencyRate?: number;
  /**
   * Last, the cost phase: `posts` messages at `rate` per second (open loop, far below saturation,
   * so neither side is starved); server CPU per delivered message, the server's idle CPU (read
   * over `idleMs` with every subscriber connected, before any post) subtracted.
   */
  cost: { posts: number; rate: number; idleMs: number };
  drainTimeoutMs: number;
  /** Subscribing is over once no frame has arrived for this long (presence updates settle). */
  quietMs: number;
  textLength: number;
  /** Several pids (the shared-mode bench): CPU figures are their sum. */
  serverPid: number | number[];
}

export interface SubscribeStats {
  connections: number;
  /** Until every subscription answered "started". */
  connectMs: number;
  /** Then until no frame arrived for quietMs (not counting those quietMs). */
  settleMs: number;
  frames: number;
  megabytes: number;
}

export interface FanoutResult {
  subscribers: number;
  joinStorm: SubscribeStats | null;
  setup: SubscribeStats;
  saturation: {
    messagesPosted: number;
    delivered: number;
    seconds: number;
    deliveredPerSecond: number;
    messagesPerSecond: number;
    serverCpu: number;
    loadCpu: number;
    otherCpu: number;
  };
  latency: {
    rate: number;
    posted: number;
    postErrors: number;
    expected: number;
    delivered: number;
    deliveredRatio: number;
    latencyMs: LatencySummary;
    serverCpu: number;
    loadCpu: number;
    otherCpu: number;
  };
  /** Server CPU per delivered message over the saturation window, idle subtracted. */
  saturationCost: CpuCost;
  cost: {
    rate: number;
    posted: number;
    postErrors: number;
    expected: number;
    delivered: number;
    /** Bytes received per delivered message: both servers must send the same frames. */
    bytesPerDelivery: number;
    /** Per delivered message: from the first post's scheduled time until every subscriber has the last. */
    cpu: CpuCost;
    serverCpu: number;
    loadCpu: number;
    otherCpu: number;
    /**
     * The same posts at the same rate once every subscriber has left: server CPU per accepted
     * post with nobody to deliver to, the part of the cost figure that is not fan-out.
     */
    postsOnly: CpuCost;
  };
  duplicates: number;
  outOfOrder: number;
  /** Message frames fully parsed to check that the fast path read them right. */
  verified: number;
  /** Subscriber connections the server closed during the run. */
  closedSockets: number;
  errors: string[];
}

const SUBSCRIPTION_ID = 1;
/**
 * A tracked rooms.events message frame, recognised by its shape; captures the message's seq and
 * the index in its text. The event id is opaque (decision 019: `c<change>` now, a seq before), so
 * it is skipped, never parsed: ordering is checked on data.message.seq.
 */
const MESSAGE_FRAME =
  /^\{"id":1,"result":\{"type":"data","data":\{"id":"[^"]*","data":\{"type":"message","message":\{.*?"seq":(\d+),.*?"text":"f(\d+) /;
const STALL_MS = 10_000;
const sleep = (ms: number) => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));

interface Posted {
  scheduledAt: number;
  received: number;
  done: boolean;
  phase: 'saturation' | 'latency' | 'cost';
}

/**
 * One room, many subscribers, each its own WebSocket speaking tRPC's protocol. Messages are
 * posted over HTTP by this same process, so send and receive times share one clock.
 * Saturation is a closed loop (a window of messages in flight, each done when every subscriber
 * has it); latency is an open loop at a fixed rate, measured from each message's scheduled send
 * time so a slow server cannot hide its queueing (no coordinated omission).
 */
async function run(config: FanoutConfig): Promise<FanoutResult> {
  const errors: string[] = [];
  const fail = (message: string) => {
    if (errors.length < 5) errors.push(message.slice(0, 400));
  };
  let frames = 0;
  let bytes = 0;
  let lastFrameAt = performance.now();
  let verified = 0;
  let finished = false;
  const wsUrls = config.wsUrls && config.wsUrls.length > 0 ? config.wsUrls : [config.wsUrl];

  /** Opens one subscribed socket per token; resolves once all are started and the server is quiet. */
  const subscribeAll = async (
    room: string,
    tokens: string[],
    onMessage: (subscriber: number, seq: number, index: number, receivedAt: number) => void,
    onClosed: () => void,
  ) => {
    const framesBefore = frames;
    const bytesBefore = bytes;
    const start = performance.now();
    let started = 0;
    let allStarted: () => void = () => {};
    const everyoneStarted = new Promise<void>((resolveStarted) => {
      allStarted = resolveStarted;
    });
    const onFrame = (subscriber: number, text: string, receivedAt: number) => {
      frames += 1;
      lastFrameAt = receivedAt;
      // Hot path: a message frame is read without JSON.parse, which would cost the one load core
      // more than the server spends sending it; every 500th is fully parsed and checked.
      const fast = MESSAGE_FRAME.exec(text);
      if (fast) {
        const seq = Number(fast[1]);
        const index = Number(fast[2]);
        if (frames % 500 === 0) {
          const parsed = messageOf(JSON.parse(text) as TrpcFrame);
          if (parsed?.seq !== seq || !parsed.text.startsWith(`f${index} `)) fail(`frame misread: ${text}`);
          verified += 1;
        }
        onMessage(subscriber, seq, index, receivedAt);
        return;
      }
      const frame = JSON.parse(text) as TrpcFrame;
      if (frame.error) fail(`server error frame: ${JSON.stringify(frame.error)}`);
      else if (frame.result?.type === 'started') {
        started += 1;
        if (started === tokens.length) allStarted();
      } else if (messageOf(frame)) fail(`unrecognized message frame: ${text}`);
    };
    const sockets: TrpcSocket[] = await inBatches(
      tokens.map((token, index) => ({ token, index })),
      config.connectConcurrency,
      async ({ token, index }) => {
        const socket = await openTrpcSocket({
          url: wsUrls[index % wsUrls.length] ?? config.wsUrl,
          token,
          onFrame: (text, receivedAt, size) => {
            bytes += size;
            onFrame(index, text, receivedAt);
          },
          onClose: () => {
            if (!finished) onClosed();
          },
        });
        socket.send({ id: SUBSCRIPTION_ID, method: 'subscription', params: { path: 'rooms.events', input: { room } } });
        return socket;
      },
    );
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      everyoneStarted,
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`only ${started} of ${tokens.length} subscriptions started`)),
          120_000,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    const connectMs = performance.now() - start;
    const settleStart = performance.now();
    while (performance.now() - lastFrameAt < config.quietMs && performance.now() - settleStart < 120_000) {
      await sleep(20);
    }
    const stats: SubscribeStats = {
      connections: tokens.length,
      connectMs,
      settleMs: Math.max(0, lastFrameAt - settleStart),
      frames: frames - framesBefore,
      megabytes: (bytes - bytesBefore) / 1e6,
    };
    if (errors.length > 0) throw new Error(`subscribing failed: ${errors.join('; ')}`);
    return { sockets, stats };
  };

  let joinStorm: SubscribeStats | null = null;
  if (config.joinStorm) {
    const storm = await subscribeAll(
      config.joinStorm.room,
      config.joinStorm.tokens,
      () => {},
      () => {},
    );
    joinStorm = storm.stats;
    for (const socket of storm.sockets) socket.close();
    // Leaving causes presence updates too; let them pass before measuring anything else.
    await sleep(config.quietMs);
    while (performance.now() - lastFrameAt < config.quietMs) await sleep(20);
  }

  // The fan-out room's subscribers.
  const subscribers = config.tokens.length;
  const posted: Posted[] = [];
  const lastSeq = new Float64Array(subscribers);
  let open = subscribers;
  let duplicates = 0;
  let outOfOrder = 0;
  let countingDeliveries = false;
  let windowDelivered = 0;
  let onComplete: () => void = () => {};
  let latencies = new Float64Array(0);
  let latencyCount = 0;
  let latencyDelivered = 0;
  let costDelivered = 0;

  const complete = (record: Posted) => {
    if (record.done || record.received < open) return;
    record.done = true;
    if (record.phase === 'saturation') onComplete();
  };
  const onMessage = (subscriber: number, seq: number, index: number, receivedAt: number) => {
    const record = posted[index];
    if (!record) return;
    const previous = lastSeq[subscriber] ?? 0;
    if (seq === previous) {
      duplicates += 1;
      return;
    }
    if (seq < previous) outOfOrder += 1;
    lastSeq[subscriber] = seq;
    record.received += 1;
    if (record.phase === 'saturation') {
      if (countingDeliveries) windowDelivered += 1;
    } else if (record.phase === 'cost') {
      costDelivered += 1;
    } else {
      latencyDelivered += 1;
      if (latencyCount < latencies.length) latencies[latencyCount++] = receivedAt - record.scheduledAt;
    }
    complete(record);
  };
  // A subscriber the server dropped never gets the rest: it no longer holds up the window, and
  // what it misses shows in delivered/expected.
  const onClosed = () => {
    open -= 1;
    for (const record of posted) complete(record);
  };
  const main = await subscribeAll(config.room, config.tokens, onMessage, onClosed);
  // What the server spends with everyone connected and nothing posted (pings, timers).
  const idleCores = await measureIdleCpu(config.serverPid, config.cost.idleMs);

  // Posting: keep-alive HTTP; the text starts with the message's index.
  let agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const url = new URL(config.postUrl);
  const padding = 'x'.repeat(config.textLength);
  const post = (index: number) =>
    new Promise<boolean>((resolvePost) => {
      const text = `f${index} ${padding}`.slice(0, Math.max(config.textLength, 12));
      const body = Buffer.from(JSON.stringify({ room: config.room, text }));
      const req = request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: { ...config.postHeaders, 'content-type': 'application/json', 'content-length': body.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.once('end', () => {
            const ok = res.statusCode === 200;
            if (!ok) fail(`post answered ${res.statusCode}: ${Buffer.concat(chunks).toString()}`);
            resolvePost(ok);
          });
        },
      );
      req.once('socket', (socket) => socket.setNoDelay(true));
      req.once('error', (error) => {
        fail(`post failed: ${error.message}`);
        resolvePost(false);
      });
      req.end(body);
    });

  // Saturation: a window of messages in flight; a message leaves the window once everyone has it.
  let inFlight = 0;
  let sending = true;
  let lastProgressAt = performance.now();
  const sendNext = () => {
    if (!sending) return;
    const index = posted.length;
    const record: Posted = { scheduledAt: performance.now(), received: 0, done: false, phase: 'saturation' };
    posted.push(record);
    inFlight += 1;
    void post(index).then((ok) => {
      // A failed post is never delivered: free its slot now.
      if (!ok && !record.done) {
        record.done = true;
        onComplete();
      }
    });
  };
  onComplete = () => {
    inFlight -= 1;
    lastProgressAt = performance.now();
    sendNext();
  };
  for (let i = 0; i < config.window; i += 1) sendNext();
  const stalled = () => performance.now() - lastProgressAt > STALL_MS;
  const waitFor = async (ms: number) => {
    const end = performance.now() + ms;
    while (performance.now() < end && !stalled()) await sleep(Math.min(20, end - performance.now()));
  };
  await waitFor(config.warmupMs);
  const postedBefore = posted.length;
  const saturationCpu = windowMeter(config.serverPid);
  const saturationStart = performance.now();
  countingDeliveries = true;
  await waitFor(config.saturationMs);
  countingDeliveries = false;
  const saturationSeconds = (performance.now() - saturationStart) / 1000;
  const saturation = {
    messagesPosted: posted.length - postedBefore,
    delivered: windowDelivered,
    deliveredPerSecond: windowDelivered / saturationSeconds,
    messagesPerSecond: windowDelivered / subscribers / saturationSeconds,
    ...saturationCpu(),
    seconds: saturationSeconds,
  };
  const saturationCost = cpuPerOperation(saturation, idleCores, windowDelivered);
  if (stalled()) throw new Error(`deliveries stalled at saturation: ${errors.join('; ') || 'no error seen'}`);
  sending = false;
  const drainEnd = performance.now() + config.drainTimeoutMs;
  while (inFlight > 0 && performance.now() < drainEnd) await sleep(20);

  // Latency: an open loop at a fixed rate; each message's clock starts at its scheduled time.
  const rate = config.latencyRate ?? saturation.messagesPerSecond / 2;
  const count = Math.max(1, Math.round((rate * config.latencyMs) / 1000));
  latencies = new Float64Array(count * subscribers);
  const firstIndex = posted.length;
  for (let i = 0; i < count; i += 1) posted.push({ scheduledAt: 0, received: 0, done: false, phase: 'latency' });
  const latencyCpu = windowMeter(config.serverPid);
  const latencyStart = performance.now();
  const posts: Promise<boolean>[] = [];
  for (let i = 0; i < count; i += 1) {
    const scheduledAt = latencyStart + (i * 1000) / rate;
    const wait = scheduledAt - performance.now();
    if (wait > 1) await sleep(wait);
    const record = posted[firstIndex + i];
    if (!record) throw new Error('latency record missing');
    record.scheduledAt = scheduledAt;
    posts.push(post(firstIndex + i));
  }
  const accepted = (await Promise.all(posts)).filter(Boolean).length;
  // Everyone subscribed at the start is expected to get every accepted message: a dropped
  // connection counts as loss.
  const expected = accepted * subscribers;
  const latencyDrainEnd = performance.now() + config.drainTimeoutMs;
  while (latencyDelivered < accepted * open && performance.now() < latencyDrainEnd) await sleep(20);
  const latency = {
    rate,
    posted: count,
    postErrors: count - accepted,
    expected,
    delivered: latencyDelivered,
    deliveredRatio: expected > 0 ? latencyDelivered / expected : 0,
    latencyMs: summarizeLatencies(latencies.subarray(0, latencyCount)),
    ...latencyCpu(),
  };

  // Cost: a fixed, modest rate, so the figure is CPU per delivery and not who saturates first.
  while (performance.now() - lastFrameAt < config.quietMs) await sleep(20);
  // Fresh connections: after the pause a kept-alive one may be closing on the server's side
  // (node:http's 5 s keep-alive timeout on the raw ws server), and a post on it would fail.
  agent.destroy();
  agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const costCount = config.cost.posts;
  const costFirst = posted.length;
  for (let i = 0; i < costCount; i += 1) posted.push({ scheduledAt: 0, received: 0, done: false, phase: 'cost' });
  const costBytesBefore = bytes;
  const costCpu = windowMeter(config.serverPid);
  const costStart = performance.now();
  const costPosts: Promise<boolean>[] = [];
  for (let i = 0; i < costCount; i += 1) {
    const scheduledAt = costStart + (i * 1000) / config.cost.rate;
    const wait = scheduledAt - performance.now();
    if (wait > 1) await sleep(wait);
    const record = posted[costFirst + i];
    if (!record) throw new Error('cost record missing');
    record.scheduledAt = scheduledAt;
    costPosts.push(post(costFirst + i));
  }
  const costAccepted = (await Promise.all(costPosts)).filter(Boolean).length;
  const costDrainEnd = performance.now() + config.drainTimeoutMs;
  while (costDelivered < costAccepted * open && performance.now() < costDrainEnd) await sleep(5);
  const costWindow = costCpu();
  const cost = {
    rate: config.cost.rate,
    posted: costCount,
    postErrors: costCount - costAccepted,
    expected: costAccepted * subscribers,
    delivered: costDelivered,
    bytesPerDelivery: costDelivered > 0 ? (bytes - costBytesBefore) / costDelivered : 0,
    cpu: cpuPerOperation(costWindow, idleCores, costDelivered),
    serverCpu: costWindow.serverCpu,
    loadCpu: costWindow.loadCpu,
    otherCpu: costWindow.otherCpu,
  };

  finished = true;
  for (const socket of main.sockets) socket.close();
  // Posts only: everyone has left (their frames stop); the same number of posts at the same rate.
  await sleep(config.quietMs);
  while (performance.now() - lastFrameAt < config.quietMs) await sleep(20);
  agent.destroy();
  agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const aloneIdle = await measureIdleCpu(config.serverPid, config.cost.idleMs);
  const aloneFirst = posted.length;
  const aloneCpu = windowMeter(config.serverPid);
  const aloneStart = performance.now();
  const alonePosts: Promise<boolean>[] = [];
  for (let i = 0; i < costCount; i += 1) {
    const wait = aloneStart + (i * 1000) / config.cost.rate - performance.now();
    if (wait > 1) await sleep(wait);
    alonePosts.push(post(aloneFirst + i));
  }
  const aloneAccepted = (await Promise.all(alonePosts)).filter(Boolean).length;
  const postsOnly = cpuPerOperation(aloneCpu(), aloneIdle, aloneAccepted);
  agent.destroy();
  return {
    subscribers,
    joinStorm,
    setup: main.stats,
    saturation,
    latency,
    saturationCost,
    cost: { ...cost, postsOnly },
    duplicates,
    outOfOrder,
    verified,
    closedSockets: subscribers - open,
    errors,
  };
}

runAsChild(run);
