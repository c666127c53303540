/** Tokens: issue a client token for a user (`POST /v1/tokens`) and copy it. */
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import type { TokenResponse } from '../../lib/admin/admin-api';
import type { AdminApi } from '../api';
import { fieldValue, OutcomeLine, useAction } from '../ui';

export function TokensScreen({ api }: { api: AdminApi }) {
  const [token, setToken] = useState<TokenResponse | undefined>(undefined);
  const issue = useAction();
  const copy = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const userId = fieldValue(form, 'userId');
    const ttl = fieldValue(form, 'ttlSeconds');
    copy.setOutcome(undefined);
    void issue.run(async () => {
      setToken(undefined);
      const issued = await api.createToken({ userId, ...(ttl !== '' && { ttlSeconds: Number(ttl) }) });
      setToken(issued);
      return undefined;
    });
  };
  const copyToken = () => {
    if (!token) return;
    void copy.run(async () => {
      try {
        await navigator.clipboard.writeText(token.token);
        return 'Copied.';
      } catch {
        // Clipboard access can be refused (permissions, an insecure origin): leave it selected instead.
        const field = document.getElementById('token-value');
        if (field instanceof HTMLTextAreaElement) field.select();
        return 'The browser refused the clipboard: the token is selected, copy it with Ctrl-C (⌘-C).';
      }
    });
  };
  return html`
    <p class="lead">A token lets a client connect as this user. Hand it only to that user’s app.</p>
    <form onSubmit=${submit} noValidate>
      <div class="field">
        <label for="token-user">User id</label>
        <input id="token-user" name="userId" required autocomplete="off" spellcheck="false" />
      </div>
      <div class="field">
        <label for="token-ttl">Valid for (seconds)</label>
        <input id="token-ttl" name="ttlSeconds" type="number" inputmode="numeric" min="60" max="2592000" step="1" placeholder="86400" aria-describedby="token-ttl-hint" />
        <p class="hint" id="token-ttl-hint">60 to 2592000 (30 days); default 86400 (a day).</p>
      </div>
      <button type="submit" disabled=${issue.busy}>Issue token</button>
      <${OutcomeLine} outcome=${issue.outcome} />
    </form>
    ${token &&
    html`<section class="panel" aria-labelledby="token-heading">
      <h3 id="token-heading">Token for <code>${token.userId}</code></h3>
      <label for="token-value">Token, valid until ${new Date(token.expiresAt).toLocaleString()}</label>
      <textarea id="token-value" readonly rows="4" spellcheck="false" value=${token.token} onFocus=${(event: Event) => (event.currentTarget as HTMLTextAreaElement).select()}></textarea>
      <button type="button" onClick=${copyToken}>Copy</button>
      <${OutcomeLine} outcome=${copy.outcome} />
    </section>`}
  `;
}
