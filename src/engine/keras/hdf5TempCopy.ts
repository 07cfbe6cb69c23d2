// Temporary copies for bytes: h5wasm's Node build maps the wasm file system onto the real
// one (no in-memory files), so bytes are written to a private file first. close() deletes
// it, and process exit does for any a caller forgot.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Hdf5Error, fsReason } from './hdf5Errors';

const tempDirs = new Set<string>();
let exitHookInstalled = false;

export function writeTempCopy(name: string, bytes: Uint8Array): { dir: string; file: string } {
  let dir: string | undefined;
  try {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'transfer-lab-h5-'));
    tempDirs.add(dir);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', () => {
        for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
      });
    }
    const file = path.join(dir, 'data.h5');
    fs.writeFileSync(file, bytes, { mode: 0o600 });
    return { dir, file };
  } catch (e) {
    if (dir) removeTemp(dir);
    throw new Hdf5Error(name, `${name} cannot be read: writing a temporary copy in ${os.tmpdir()} failed (${fsReason(e)}); free some disk space`, { cause: e });
  }
}

export function removeTemp(dir: string): void {
  tempDirs.delete(dir);
  fs.rmSync(dir, { recursive: true, force: true });
}
