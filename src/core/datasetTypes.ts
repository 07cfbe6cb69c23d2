// The dataset's shared types, without I/O (webviews and run records use them too).

export type SplitName = 'train' | 'val' | 'test';
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'val', 'test'];

export interface DatasetItem {
  /** Absolute path (through the dataset folder, not symlink-resolved). */
  path: string;
  /** Index into DatasetIndex.classes. */
  label: number;
  split: SplitName;
}

export interface SkippedFile {
  path: string;
  reason: string;
}

export type SplitCounts = Record<SplitName, number>;
