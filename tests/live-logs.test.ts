import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startServerProcess } from './support/process.ts';
import { openRawSocket } from './support/raw-socket.ts';

/** pino's level numbers: 40 warn, 50 error. */
const WARN = 40;

describe('log output for client-caused WebSocket errors', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess({ LOG_LEVEL: 'info' });
  });
  afterAll(() => server.stop());

  const sendOversizedFrame = async () => {
    const socket = await openRawSocket(server.baseUrl);
    socket.sendText('x'.repeat(64 * 1024 + 1));
    await socket.until((s) => s.closed !== null);
    expect(socket.closed?.code).toBe(1009);
  };
  const problems = () => server.logLines().filter((line) => Number(line.level) >= WARN);

  it('one oversized frame from an anonymous client writes one warn line, without a stack', async () => {
    await sendOversizedFrame();
    await expect.poll(() => problems().length, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    // A second one, so that a late second line for the first frame would show up before the
    // second frame's own line (the log is written in order).
    await sendOversizedFrame();
    await expect.poll(() => problems().length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    const lines = problems();
    expect(lines, JSON.stringify(lines)).toHaveLength(2);
    for (const line of lines) {
      expect(line.level).toBe(WARN);
      expect(line.msg).toBe('WebSocket closed: Max payload size exceeded');
      expect(line.code).toBe('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
      expect(JSON.stringify(line)).not.toContain('stack');
    }
    expect((await fetch(`${server.baseUrl}/healthz`)).status).toBe(200);
  });
});
