// Items sent in batches: the first item of a batch starts a timer, and everything pushed until
// it fires goes out together (one message instead of one per step).
export interface Batcher<T> {
  push(item: T): void;
  /** Sends what is pending now (at the end of a run). */
  flush(): void;
}

export function batcher<T>(ms: number, send: (items: T[]) => void): Batcher<T> {
  let pending: T[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending.length) send(pending);
    pending = [];
  };
  return {
    push(item) {
      pending.push(item);
      timer ??= setTimeout(flush, ms);
    },
    flush,
  };
}
