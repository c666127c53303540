/** Small pieces every screen uses: a status line, an error line, and the running-request state. */
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { ApiError } from './api';

export type Outcome = { kind: 'ok'; text: string } | { kind: 'error'; text: string } | undefined;

/** What happened last: `role=status` for success (read out politely), `role=alert` for a refusal. */
export function OutcomeLine({ outcome, id }: { outcome: Outcome; id?: string }) {
  if (!outcome) return html`<p class="outcome" role="status" id=${id}></p>`;
  return outcome.kind === 'ok'
    ? html`<p class="outcome ok" role="status" id=${id}>${outcome.text}</p>`
    : html`<p class="outcome error" role="alert" id=${id}>${outcome.text}</p>`;
}

export function describeError(error: unknown): string {
  if (error instanceof ApiError) return `${error.message} (${error.code})`;
  return error instanceof Error ? error.message : String(error);
}

/** Runs one request at a time for a form: `busy` while it runs, its outcome after. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(undefined);
  const run = async (action: () => Promise<string | undefined>) => {
    setBusy(true);
    setOutcome(undefined);
    try {
      const text = await action();
      setOutcome(text === undefined ? undefined : { kind: 'ok', text });
    } catch (error) {
      setOutcome({ kind: 'error', text: describeError(error) });
    } finally {
      setBusy(false);
    }
  };
  return { busy, outcome, setOutcome, run };
}

/** The value of a form field by name. */
export function fieldValue(form: HTMLFormElement, name: string): string {
  const field = form.elements.namedItem(name);
  return field instanceof HTMLInputElement || field instanceof HTMLTextAreaElement || field instanceof HTMLSelectElement ? field.value.trim() : '';
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export const formatTime = (iso: string | null) => (iso === null ? '—' : new Date(iso).toLocaleString());
