// Appends of concurrent commands shared: while one append is in flight, the ones that come meanwhile
// wait and then go together, one transaction for them all (docs/design.md, "Appends shared by
// concurrent commands"). Each gets its own answer; when the group fails as a whole, each goes alone.
import type { AppendRequest, AppendResult, EventLog } from './event-log.ts';

interface Waiting extends AppendRequest {
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

/** The log with appends grouped; the log itself when it cannot append several streams at once. */
export const groupAppends = (log: EventLog, maxGroup = 64): EventLog => {
  const appendMany = log.appendMany;
  if (!appendMany) return log;
  const waiting: Waiting[] = [];
  let sending = false;

  const alone = (w: Waiting): Promise<void> =>
    log.append(w.stream, w.events, w.expected).then(w.resolve, w.reject);
  const send = async (group: readonly Waiting[]): Promise<void> => {
    if (group.length === 1) return alone(group[0]!);
    const answers = await appendMany(group).catch(() => undefined);
    if (!answers) return void (await Promise.all(group.map(alone)));
    group.forEach((w, i) => {
      const answer = answers[i]!;
      if (answer instanceof Error) w.reject(answer);
      else w.resolve(answer);
    });
  };
  const next = (): void => {
    if (sending || waiting.length === 0) return;
    sending = true;
    void send(waiting.splice(0, maxGroup)).finally(() => {
      sending = false;
      next();
    });
  };

  return {
    ...log,
    append: (stream, events, expected) =>
      new Promise<AppendResult>((resolve, reject) => {
        waiting.push({ stream, events, expected, resolve, reject });
        next();
      }),
  };
};
