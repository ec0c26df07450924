import { collectDefaultMetrics, Registry } from 'prom-client';

let processRegistry: Registry | undefined;

/**
 * prom-client's default metrics (CPU, memory, heap, GC, handles, event-loop lag) describe the
 * process, not one app, and collecting them starts a GC observer and an event-loop delay monitor
 * that are never stopped. So they live in one registry per process, made on first use, which every
 * app in the process serves next to its own: tests that start dozens of apps start one monitor.
 */
export function getProcessRegistry(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}
