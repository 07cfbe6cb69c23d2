// Download progress for a UI: bytes so far against an expected total, reported at most every
// 100 ms (a progress bar needs no more, and a fast local copy would otherwise call it per chunk).

export type ProgressCallback = (loadedBytes: number, totalBytes?: number) => void;

export interface ThrottledProgress {
  add(n: number): void;
  /** The expected total (undefined: not known); reported totals never fall below what arrived. */
  setTotal(t: number | undefined): void;
  /** Reports now, whatever the time since the last report. */
  flush(): void;
}

export function throttledProgress(onProgress: ProgressCallback | undefined, total?: number): ThrottledProgress {
  let loaded = 0;
  let last = 0;
  const report = () => onProgress?.(loaded, total !== undefined ? Math.max(total, loaded) : undefined);
  return {
    add(n) {
      loaded += n;
      const now = Date.now();
      if (onProgress && now - last >= 100) {
        last = now;
        report();
      }
    },
    setTotal(t) {
      total = t;
    },
    flush: report,
  };
}
