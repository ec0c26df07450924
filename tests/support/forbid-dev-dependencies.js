// @ts-check
/**
 * `node --import ./tests/support/forbid-dev-dependencies.js …`: makes importing any of
 * package.json's devDependencies (tsx, vite, typescript, …) at run time throw, so a test can prove
 * the compiled server runs on production dependencies alone, as after `npm ci --omit=dev`.
 */
import { readFileSync } from 'node:fs';
import { register } from 'node:module';

const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
register('./forbid-dev-dependencies-hooks.js', import.meta.url, {
  data: { devDependencies: Object.keys(manifest.devDependencies ?? {}) },
});
