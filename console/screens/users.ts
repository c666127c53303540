/** Users: one user's duration in force and its source, their own setting, and their queue. */
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import type { OfflineSummaryResponse, UserConfigResponse } from '../../lib/admin/admin-api';
import { appSettingSpecs } from '../../lib/retention/settings';
import type { AdminApi } from '../api';
import { fieldValue, formatTime, OutcomeLine, plural, useAction } from '../ui';

const userDuration = appSettingSpecs.offlineMessageDurationDays;
const durationBounds = userDuration.control.kind === 'wholeNumber' ? userDuration.control : undefined;

export function UsersScreen({ api }: { api: AdminApi }) {
  const [user, setUser] = useState<UserConfigResponse | undefined>(undefined);
  const [queue, setQueue] = useState<OfflineSummaryResponse | undefined>(undefined);
  const lookup = useAction();
  const change = useAction();

  const load = async (userId: string) => {
    const [config, summary] = await Promise.all([api.getUser(userId), api.getQueue(userId)]);
    setUser(config);
    setQueue(summary);
  };
  const submitLookup = (event: Event) => {
    event.preventDefault();
    const userId = fieldValue(event.currentTarget as HTMLFormElement, 'userId');
    change.setOutcome(undefined);
    void lookup.run(async () => {
      setUser(undefined);
      setQueue(undefined);
      await load(userId);
      return undefined;
    });
  };
  const submitDuration = (event: Event) => {
    event.preventDefault();
    if (!user) return;
    const raw = fieldValue(event.currentTarget as HTMLFormElement, 'offlineMessageDurationDays');
    const days = raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
    void change.run(async () => {
      setUser(await api.setUser(user.userId, days));
      return `Set ${user.userId}’s duration to ${raw} days; it applies at once.`;
    });
  };
  const refresh = () => {
    if (!user) return;
    void lookup.run(async () => {
      await load(user.userId);
      return undefined;
    });
  };
  const clear = () => {
    if (!user) return;
    void change.run(async () => {
      setUser(await api.clearUser(user.userId));
      return `Cleared ${user.userId}’s own duration: the app’s applies.`;
    });
  };

  return html`
    <form class="inline" onSubmit=${submitLookup}>
      <label for="userId">User id</label>
      <input id="userId" name="userId" required autocomplete="off" spellcheck="false" />
      <button type="submit" disabled=${lookup.busy}>Look up</button>
    </form>
    <${OutcomeLine} outcome=${lookup.outcome} />
    ${user &&
    queue &&
    html`
      <section aria-labelledby="user-heading" class="panel">
        <h3 id="user-heading">${user.userId}</h3>
        <dl class="facts">
          <dt>Duration in force</dt>
          <dd id="user-in-force">${plural(user.inForce.days, 'day')}, from the ${user.inForce.source === 'user' ? 'user’s own setting' : 'app setting'}</dd>
          <dt>Own setting</dt>
          <dd id="user-own">
            ${user.offlineMessageDurationDays === null ? 'none' : plural(user.offlineMessageDurationDays, 'day')}
            ${user.offlineMessageDurationDays !== null &&
            user.inForce.source === 'app' &&
            html`<span class="hint"> (not in force: the app setting <code>userLevelSettingsEnabled</code> is off)</span>`}
          </dd>
        </dl>
        <form class="inline" onSubmit=${submitDuration} noValidate>
          <label for="user-days">Set the user’s duration (days)</label>
          <input
            id="user-days"
            name="offlineMessageDurationDays"
            type="number"
            inputmode="numeric"
            min=${durationBounds?.min}
            max=${durationBounds?.max}
            step="1"
            required
            aria-describedby="user-days-hint"
          />
          <button type="submit" disabled=${change.busy}>Set</button>
          <button type="button" class="quiet" disabled=${change.busy || user.offlineMessageDurationDays === null} onClick=${clear}>
            Clear
          </button>
          <p class="hint" id="user-days-hint">Range: ${userDuration.range}. An admin may set it whether or not users may set their own.</p>
        </form>
        <${OutcomeLine} outcome=${change.outcome} />

        <h3>Offline queue</h3>
        <p id="queue-count"><strong>${plural(queue.count, 'message')}</strong> waiting</p>
        <table class="compact">
          <thead><tr><th scope="col">type</th><th scope="col">messages</th></tr></thead>
          <tbody>
            ${Object.entries(queue.byType).map(([type, count]) => html`<tr><th scope="row">${type}</th><td>${count}</td></tr>`)}
          </tbody>
        </table>
        <dl class="facts">
          <dt>Oldest</dt>
          <dd>${formatTime(queue.oldestSentAt)}</dd>
          <dt>Newest</dt>
          <dd>${formatTime(queue.newestSentAt)}</dd>
          <dt>Dropped at the next connect</dt>
          <dd>${queue.pendingDrops.overflow} over a cap, ${queue.pendingDrops.expired} expired</dd>
        </dl>
        <button type="button" class="quiet" onClick=${refresh}>Refresh</button>
      </section>
    `}
  `;
}
