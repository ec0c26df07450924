import type { AnyTRPCRouter } from '@trpc/server';
import type { OpenApiMeta } from 'trpc-to-openapi';

/** The route label of requests no route matched: client routes of the web app (200) and 404s. */
export const NO_ROUTE = '(no route)';

interface RestRoute {
  method: string;
  pattern: RegExp;
  template: string;
}

/**
 * trpc-to-openapi serves every REST path through one catch-all route (`/api/*`), which would put
 * all REST traffic under one label. This maps a REST request back to its OpenAPI path template,
 * written the way Fastify writes its own (`/api/rooms/:room/messages`), so the label set stays
 * fixed: one per endpoint, never one per room or user.
 */
export function restRouteLabeler(router: AnyTRPCRouter, basePath: string): (method: string, url: string) => string {
  const routes: RestRoute[] = [];
  for (const procedure of Object.values(router._def.procedures as Record<string, { _def: { meta?: OpenApiMeta } }>)) {
    const openapi = procedure._def.meta?.openapi;
    if (!openapi) continue;
    const source = openapi.path
      .split('/')
      .map((part) => (/^\{\w+\}$/.test(part) ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    const template = `${basePath}${openapi.path}`.replace(/\{(\w+)\}/g, ':$1');
    routes.push({ method: openapi.method, pattern: new RegExp(`^${source}/?$`), template });
  }
  return (method, url) => {
    const queryStart = url.indexOf('?');
    let path = queryStart === -1 ? url : url.slice(0, queryStart);
    // trpc-to-openapi strips its base path from the request's URL before it handles the request,
    // so by the time the response is logged the URL may or may not still carry it.
    if (path.startsWith(`${basePath}/`)) path = path.slice(basePath.length);
    let samePath: string | undefined;
    for (const route of routes) {
      if (!route.pattern.test(path)) continue;
      if (route.method === method || (method === 'HEAD' && route.method === 'GET')) return route.template;
      samePath ??= route.template;
    }
    return samePath ?? NO_ROUTE;
  };
}
