/** Overview: the `GET /v1/stats` counters (SPEC §7). */
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import type { StatsResponse } from '../../lib/admin/admin-api';
import type { AdminApi } from '../api';
import { describeError, formatTime } from '../ui';

export function OverviewScreen({ api }: { api: AdminApi }) {
  const [stats, setStats] = useState<StatsResponse | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const load = () =>
    api.getStats().then(
      (answer) => {
        setStats(answer);
        setError(undefined);
      },
      (caught: unknown) => setError(describeError(caught)),
    );
  useEffect(() => void load(), []);

  if (error) return html`<p class="outcome error" role="alert">${error}</p>`;
  if (!stats) return html`<p aria-busy="true">Loading the counters…</p>`;
  const { messages, drains, offlineEvents, fanOut } = stats;
  const counters: Array<[string, number | string, string]> = [
    ['Connections open', stats.connectionsOpen, 'WebSocket connections now'],
    ['Accepted', messages.accepted, 'messages answered “sent accepted”'],
    ['Stored', messages.stored, 'copies written to offline queues'],
    ['Pushed', messages.pushed, 'copies posted to open connections'],
    ['Delivered', messages.delivered, 'copies sent by a drain or a sync'],
    ['Acked', messages.acked, 'copies acknowledged, and so removed'],
    ['Duplicates', messages.duplicates, 'resends answered “duplicate”'],
    ['Conflicts', messages.conflicts, 'sends refused: a clientMsgId reused for another message'],
    ['Rate limited', messages.rateLimited, 'sends refused with RATE_LIMITED'],
    ['Drains', drains.count, `on connect; ${drains.averageSize} messages and ${drains.averageMs} ms each, on average`],
    ['Offline events', offlineEvents.emitted, `wake-ups for users away, put on the event bus; ${offlineEvents.failed} dropped`],
    ['Fan-out backlog', fanOut.backlog ?? 'unknown', 'fan-out jobs waiting or being worked on'],
  ];
  return html`
    <p class="lead">
      ${stats.source === 'local'
        ? html`Counted by this local stack since ${formatTime(stats.since)}.`
        : html`From CloudWatch metrics, the last 24 hours (since ${formatTime(stats.since)}).`}
    </p>
    <dl class="counters">
      ${counters.map(
        ([label, value, meaning]) => html`<div class="counter"><dt>${label}</dt><dd><strong>${value}</strong> <span>${meaning}</span></dd></div>`,
      )}
    </dl>
    <h3>Dropped, by reason</h3>
    <table class="compact">
      <thead><tr><th scope="col">reason</th><th scope="col">messages</th></tr></thead>
      <tbody>
        ${Object.entries(messages.dropped).map(([reason, count]) => html`<tr><th scope="row"><code>${reason}</code></th><td>${count}</td></tr>`)}
      </tbody>
    </table>
    <p>Of those expired, ${messages.expiredSkipped} had passed their time (the rest went with an expired session).</p>
    <button type="button" onClick=${() => void load()}>Refresh</button>
  `;
}
