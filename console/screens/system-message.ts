/** System message composer: `POST /v1/messages/system` to a list of users, stored offline for them. */
import { html } from 'htm/preact';
import { parseIds, type AdminApi } from '../api';
import { fieldValue, OutcomeLine, plural, useAction } from '../ui';

export function SystemMessageScreen({ api }: { api: AdminApi }) {
  const send = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const to = parseIds(fieldValue(form, 'to'));
    const bodyText = fieldValue(form, 'body');
    const ttl = fieldValue(form, 'ttlSeconds');
    const clientMsgId = fieldValue(form, 'clientMsgId');
    void send.run(async () => {
      let body: unknown;
      try {
        body = JSON.parse(bodyText);
      } catch {
        throw new Error('The body is not JSON: write e.g. {"text": "hello"} or "hello" with the quotes.');
      }
      const sent = await api.sendSystemMessage({
        to,
        body,
        ...(ttl !== '' && { ttlSeconds: Number.isFinite(Number(ttl)) ? Number(ttl) : (ttl as unknown as number) }),
        ...(clientMsgId !== '' && { clientMsgId }),
      });
      return sent.status === 'duplicate'
        ? `Already sent as ${sent.id}: nothing new was stored.`
        : `Sent ${sent.id} to ${plural(sent.recipients, 'user')}: it waits in their queues until they ack it or it expires.`;
    });
  };
  return html`
    <p class="lead">A message from the app itself, stored for each recipient like a private one and pushed to those online.</p>
    <form onSubmit=${submit} noValidate>
      <div class="field">
        <label for="system-to">Recipients</label>
        <input id="system-to" name="to" required autocomplete="off" spellcheck="false" aria-describedby="system-to-hint" />
        <p class="hint" id="system-to-hint">User ids, separated by commas or spaces.</p>
      </div>
      <div class="field">
        <label for="system-body">Body (JSON)</label>
        <textarea id="system-body" name="body" rows="5" required spellcheck="false" aria-describedby="system-body-hint" defaultValue=${'{"text": ""}'}></textarea>
        <p class="hint" id="system-body-hint">Any JSON value, up to 30 KB serialized.</p>
      </div>
      <div class="field">
        <label for="system-ttl">Time to live (seconds)</label>
        <input id="system-ttl" name="ttlSeconds" type="number" inputmode="numeric" min="1" step="1" aria-describedby="system-ttl-hint" />
        <p class="hint" id="system-ttl-hint">Optional: expire sooner than the recipients’ duration in force.</p>
      </div>
      <div class="field">
        <label for="system-client-id">Client message id</label>
        <input id="system-client-id" name="clientMsgId" autocomplete="off" spellcheck="false" aria-describedby="system-client-id-hint" />
        <p class="hint" id="system-client-id-hint">Optional: sending again with the same id stores nothing new.</p>
      </div>
      <button type="submit" disabled=${send.busy}>Send</button>
      <${OutcomeLine} outcome=${send.outcome} id="system-outcome" />
    </form>
  `;
}
