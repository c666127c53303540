/**
 * App settings: one control per key of `appSettingSpecs` (SPEC §6), generated from it, so a key
 * added there appears here with its range, default and meaning. Save sends one PATCH of the changed
 * keys; the API is the validator (the form does not second-guess it), and its reason is shown next to
 * each field it names.
 */
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import type { ConfigResponse } from '../../lib/admin/admin-api';
import { appSettingSpecs, type AppSettingKey, type SettingSpec } from '../../lib/retention/settings';
import { ApiError, type AdminApi } from '../api';
import { describeError, OutcomeLine, useAction } from '../ui';

const keys = Object.keys(appSettingSpecs) as AppSettingKey[];
const specOf = (key: AppSettingKey) => appSettingSpecs[key] as SettingSpec<unknown>;

/** What a field holds, as text: the form keeps what was typed until the API accepts it. */
type Draft = Record<AppSettingKey, string | boolean>;

function toDraft(config: ConfigResponse): Draft {
  return Object.fromEntries(
    keys.map((key) => {
      const value = config[key];
      return [key, typeof value === 'boolean' ? value : value === null ? '' : String(value)];
    }),
  ) as Draft;
}

/** Typed text as the JSON value it stands for: a number, null for an empty nullable field, else the text itself (for the API to refuse). */
function toValue(key: AppSettingKey, draft: string | boolean): unknown {
  if (typeof draft === 'boolean') return draft;
  const control = specOf(key).control;
  if (draft.trim() === '' && control.kind === 'wholeNumber' && control.nullable) return null;
  const number = Number(draft);
  return draft.trim() !== '' && Number.isFinite(number) ? number : draft;
}

/** The API names each refused key at the start of its part of the message: `key must be …`. */
function reasonsByKey(message: string): Partial<Record<AppSettingKey, string>> {
  const reasons: Partial<Record<AppSettingKey, string>> = {};
  for (const part of message.replace(/; nothing was changed$/, '').split('; ')) {
    const key = keys.find((candidate) => part.startsWith(`${candidate} `));
    if (key) reasons[key] = part;
  }
  return reasons;
}

export function SettingsScreen({ api }: { api: AdminApi }) {
  const [saved, setSaved] = useState<ConfigResponse | undefined>(undefined);
  const [draft, setDraft] = useState<Draft | undefined>(undefined);
  const [reasons, setReasons] = useState<Partial<Record<AppSettingKey, string>>>({});
  const [loadError, setLoadError] = useState<string | undefined>(undefined);
  const save = useAction();

  useEffect(() => {
    api.getConfig().then(
      (config) => {
        setSaved(config);
        setDraft(toDraft(config));
      },
      (error: unknown) => setLoadError(describeError(error)),
    );
  }, []);

  if (loadError) return html`<p class="outcome error" role="alert">${loadError}</p>`;
  if (!saved || !draft) return html`<p aria-busy="true">Loading the settings…</p>`;

  const change = () => {
    const before = toDraft(saved);
    return Object.fromEntries(keys.filter((key) => draft[key] !== before[key]).map((key) => [key, toValue(key, draft[key])]));
  };
  const submit = (event: Event) => {
    event.preventDefault();
    setReasons({});
    void save.run(async () => {
      const changed = change();
      if (Object.keys(changed).length === 0) return 'Nothing to save: no setting was changed.';
      try {
        const config = await api.patchConfig(changed);
        setSaved(config);
        setDraft(toDraft(config));
        return `Saved ${Object.keys(changed).join(', ')}. Functions see the change within 60 s.`;
      } catch (error) {
        if (error instanceof ApiError) setReasons(reasonsByKey(error.message));
        throw error;
      }
    });
  };
  const undo = () => {
    setDraft(toDraft(saved));
    setReasons({});
    save.setOutcome(undefined);
  };
  const set = (key: AppSettingKey, value: string | boolean) => setDraft({ ...draft, [key]: value });

  return html`
    <p class="lead">The whole app’s retention and caps. Every setting is checked by the API; one refused value and nothing changes.</p>
    <form class="settings" onSubmit=${submit} noValidate>
      ${keys.map((key) => html`<${SettingField} key=${key} name=${key} value=${draft[key]} reason=${reasons[key]} onChange=${set} />`)}
      <div class="actions">
        <button type="submit" disabled=${save.busy}>Save</button>
        <button type="button" class="quiet" disabled=${save.busy} onClick=${undo}>
          Undo changes
        </button>
      </div>
      <${OutcomeLine} outcome=${save.outcome} id="settings-outcome" />
    </form>
  `;
}

function SettingField(props: {
  name: AppSettingKey;
  value: string | boolean;
  reason: string | undefined;
  onChange: (key: AppSettingKey, value: string | boolean) => void;
}) {
  const { name, value, reason } = props;
  const spec = specOf(name);
  const control = spec.control;
  const hintId = `${name}-hint`;
  const reasonId = `${name}-reason`;
  const describedBy = reason ? `${hintId} ${reasonId}` : hintId;
  const defaultText = spec.default === null ? 'empty (null)' : String(spec.default);
  const input =
    control.kind === 'flag'
      ? html`<input
          type="checkbox"
          id=${name}
          name=${name}
          checked=${value === true}
          aria-describedby=${describedBy}
          aria-invalid=${reason ? 'true' : undefined}
          onChange=${(event: Event) => props.onChange(name, (event.currentTarget as HTMLInputElement).checked)}
        />`
      : html`<input
          type="number"
          id=${name}
          name=${name}
          inputmode="numeric"
          step="1"
          min=${control.min}
          max=${control.max === Number.MAX_SAFE_INTEGER ? undefined : control.max}
          placeholder=${control.nullable ? 'null' : undefined}
          value=${value}
          aria-describedby=${describedBy}
          aria-invalid=${reason ? 'true' : undefined}
          onInput=${(event: Event) => props.onChange(name, (event.currentTarget as HTMLInputElement).value)}
        />`;
  return html`
    <div class=${`field ${control.kind}${reason ? ' refused' : ''}`}>
      <label for=${name}><code>${name}</code></label>
      ${input}
      <p class="hint" id=${hintId}>${spec.meaning}<br /><span class="range">Range: ${spec.range}. Default: ${defaultText}.</span></p>
      ${reason && html`<p class="reason" id=${reasonId} role="alert">${reason}</p>`}
    </div>
  `;
}
