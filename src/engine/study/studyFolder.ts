// The study folder on disk: `<runsDir>/studies/<studyId>/` with study.json (core/studyFile.ts)
// and the cells' run folders beside it. study.json is rewritten atomically after every change
// of a cell, so a study stopped at any point (Ctrl-C, Stop, a killed process) reads back whole.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import { parseStudyFile, STUDIES_FOLDER, STUDY_FILE, type StudyFile } from '../../core/studyFile';
import { slugify, writeJsonAtomic } from '../../core/runStore';
import { InputError } from '../run/experimentInput';

/** Creates a new, empty study folder; the id is `<yyyyMMdd-HHmmss>-<slug>-<hex>` like a run's. */
export function createStudyFolder(runsDir: string, experimentName: string, now = new Date()): { id: string; dir: string } {
  const parent = path.join(runsDir, STUDIES_FOLDER);
  fs.mkdirSync(parent, { recursive: true });
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  for (let attempt = 0; attempt < 50; attempt++) {
    const id = `${stamp}-${slugify(experimentName)}-${crypto.randomBytes(2).toString('hex')}`;
    const dir = path.join(parent, id);
    try {
      fs.mkdirSync(dir);
      return { id, dir };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  throw new Error(`cannot find a free study folder name in ${parent}`);
}

export function writeStudy(dir: string, study: StudyFile): void {
  writeJsonAtomic(path.join(dir, STUDY_FILE), study);
}

/** Reads a study folder's study.json; a missing or broken one is bad input naming the file. */
export function readStudy(dir: string): StudyFile {
  const file = path.join(dir, STUDY_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new InputError(file, [
      { path: '', message: `cannot read the study (${code})`, hint: `Pass a folder made by transfer-lab study: <runs>/${STUDIES_FOLDER}/<id>.` },
    ]);
  }
  const parsed = parseStudyFile(text, file);
  if (!parsed.ok) throw new InputError(file, [{ path: '', message: parsed.error }]);
  return parsed.value;
}
