// The Keras fixtures folder for the e2e tests (plain ESM, no build): what
// scripts/setup-keras-fixtures.mjs prints, making the fixtures first if they are missing.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { repoRoot } from '../support/testEnv.mjs';

export function kerasFixtureRoot() {
  const out = execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'setup-keras-fixtures.mjs'), '--if-missing'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return out.trim().split('\n').pop();
}
