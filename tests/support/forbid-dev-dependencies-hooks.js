// @ts-check
/** Module resolution hooks for forbid-dev-dependencies.js (they run on Node's loader thread). */

/** @type {string[]} */
let forbidden = [];

/** @param {{ devDependencies: string[] }} data */
export function initialize(data) {
  forbidden = data.devDependencies.map((name) => `/node_modules/${name}/`);
}

/**
 * @param {string} specifier
 * @param {object} context
 * @param {(specifier: string, context: object) => Promise<{ url: string }>} nextResolve
 */
export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  const hit = forbidden.find((path) => resolved.url.includes(path));
  if (hit) throw new Error(`devDependency loaded at run time: ${specifier} (${resolved.url})`);
  return resolved;
}
