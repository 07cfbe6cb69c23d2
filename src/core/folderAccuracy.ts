// Predicting a folder whose subfolders are class names (a dataset, or its test/ split) is an
// evaluation: each image's true class is the nearest enclosing folder named like one of the
// model's labels. This module finds that class, scores the folder, and orders the rows so the
// misclassified come first. Plain string paths (no node:path): the webview bundles it too.
import type { Prediction } from './layerSummary';

/** A prediction of one image, with the folder the user gave (when it came from one) and its true class. */
export interface PredictionRow extends Prediction {
  /** The folder dropped or picked that this image was found in. */
  root?: string;
  /** The class named by the nearest enclosing folder (under and including `root`), when it is a label. */
  truth?: string;
}

export interface FolderAccuracy {
  folder: string;
  /** Images whose folder names a class. */
  labelled: number;
  correct: number;
  /** Images in the folder whose folders name no class (or that could not be read). */
  unlabelled: number;
  /** correct / labelled; undefined when nothing is labelled. */
  accuracy?: number;
}

const segments = (p: string): string[] => p.split(/[\\/]+/).filter((s) => s.length > 0);

/** The class of `file` from its folders, nearest first, looking no higher than `root` itself. */
export function truthOf(file: string, root: string, labels: ReadonlySet<string>): string | undefined {
  const rootParts = segments(root);
  const fileParts = segments(file);
  const under = fileParts.slice(0, -1);
  // Only folders from the root's own name down count: /data/cat/x.png under /data/cat is a cat.
  const first = Math.max(0, rootParts.length - 1);
  for (let i = under.length - 1; i >= first; i--) if (labels.has(under[i])) return under[i];
  return undefined;
}

/** Right or wrong: only for a row with a true class and a top label. */
export function isCorrect(row: PredictionRow): boolean | undefined {
  if (row.truth === undefined || row.error || row.top.length === 0) return undefined;
  return row.top[0].label === row.truth;
}

/** Per folder given: how many images had a class, and how many the model got right. */
export function folderAccuracies(rows: readonly PredictionRow[], folders: readonly string[]): FolderAccuracy[] {
  return folders.map((folder) => {
    let labelled = 0;
    let correct = 0;
    let unlabelled = 0;
    for (const r of rows) {
      if (r.root !== folder) continue;
      const right = isCorrect(r);
      if (right === undefined) unlabelled++;
      else {
        labelled++;
        if (right) correct++;
      }
    }
    return { folder, labelled, correct, unlabelled, ...(labelled > 0 ? { accuracy: correct / labelled } : {}) };
  });
}

/** Misclassified first (most confident mistakes on top), then failures, then the rest in their order. */
export function misclassifiedFirst<R extends PredictionRow>(rows: readonly R[]): R[] {
  const rank = (r: R) => (isCorrect(r) === false ? 0 : r.error ? 1 : 2);
  const confidence = (r: R) => r.top[0]?.probability ?? 0;
  return rows
    .map((r, i) => ({ r, i }))
    .sort((a, b) => rank(a.r) - rank(b.r) || (rank(a.r) === 0 ? confidence(b.r) - confidence(a.r) : 0) || a.i - b.i)
    .map(({ r }) => r);
}
