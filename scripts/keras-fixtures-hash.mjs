// The generator version the Keras fixtures' folder is named by: one definition for the
// setup script and the tests' loader (test/support/kerasFixtures.ts). No import.meta here,
// so the tests' CommonJS bundle can include it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** The version of scripts/keras-fixtures/ (dir): every file but caches and the verify_* checks, hashed in name order. */
export function fixturesHash(dir) {
  const files = [];
  const walk = (d, rel) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.name === '__pycache__' || e.name.endsWith('.pyc') || e.name.startsWith('verify_')) continue; // checks, not generator input
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(d, e.name), r);
      else if (e.isFile()) files.push(r);
    }
  };
  walk(dir, '');
  const h = crypto.createHash('sha256');
  for (const r of files.sort()) {
    h.update(`${r}\0`);
    h.update(fs.readFileSync(path.join(dir, ...r.split('/'))));
    h.update('\0');
  }
  return h.digest('hex').slice(0, 16);
}
