import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { catalogue } from '../../checks/index.js';
import { ROUTE_IDS } from '../../src/model/index.js';
import type { Target } from '../../src/target.js';

/** Every check a run can schedule: all routes, protocol stages and the cloud checks on. */
const everything = catalogue({ routes: [...ROUTE_IDS], protocol: true, cloud: true } as unknown as Target);

describe('check catalogue: one check per file, named by its id', () => {
  it('has unique ids and a family equal to the id prefix', () => {
    const ids = everything.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const c of everything) expect(c.family, c.id).toBe(c.id.split('.')[0]);
  });

  it('each non-route check lives in checks/<id with dots as dashes>.ts and is exported from there', async () => {
    const local = everything.filter((c) => c.family !== 'route');
    expect(local.length).toBeGreaterThan(15);
    for (const c of local) {
      const file = c.id.replace(/\./g, '-');
      const path = fileURLToPath(new URL(`../../checks/${file}.ts`, import.meta.url));
      expect(existsSync(path), `${c.id} → checks/${file}.ts`).toBe(true);
      const mod = (await import(/* @vite-ignore */ path)) as Record<string, unknown>;
      expect(Object.values(mod), `checks/${file}.ts exports ${c.id}`).toContain(c);
    }
  });
});
