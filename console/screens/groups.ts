/**
 * Groups: the paged list from `GET /v1/groups`, create, members, delete, and deleting one member's
 * messages. What cannot be undone asks first, and says exactly what it removes.
 */
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { GroupListResponse } from '../../lib/admin/admin-api';
import type { GroupResponse } from '../../lib/groups/admin-groups';
import { parseIds, type AdminApi } from '../api';
import { describeError, fieldValue, OutcomeLine, plural, useAction } from '../ui';

type Pending = { kind: 'deleteGroup'; groupId: string } | { kind: 'deleteMessages'; groupId: string; from: string };

export function GroupsScreen({ api }: { api: AdminApi }) {
  /** The cursors of the pages before this one, so that "Previous" can go back. */
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const [page, setPage] = useState<GroupListResponse | undefined>(undefined);
  const [listError, setListError] = useState<string | undefined>(undefined);
  const [group, setGroup] = useState<GroupResponse | undefined>(undefined);
  const [pending, setPending] = useState<Pending | undefined>(undefined);
  const create = useAction();
  const action = useAction();

  const cursor = cursors[cursors.length - 1];
  const loadPage = (at: string | undefined) =>
    api.listGroups(at).then(
      (answer) => {
        setPage(answer);
        setListError(undefined);
      },
      (error: unknown) => setListError(describeError(error)),
    );
  useEffect(() => void loadPage(cursor), [cursor]);
  const reload = () => loadPage(cursor);

  const open = (groupId: string) => {
    setPending(undefined);
    void action.run(async () => {
      setGroup(await api.getGroup(groupId));
      return undefined;
    });
  };
  const submitCreate = (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const groupId = fieldValue(form, 'groupId');
    const members = parseIds(fieldValue(form, 'members'));
    void create.run(async () => {
      const created = await api.putGroup(groupId, members);
      setGroup(created);
      form.reset();
      await reload();
      return `Group ${created.groupId} has ${plural(created.memberCount, 'member')}.`;
    });
  };
  const submitAdd = (event: Event) => {
    event.preventDefault();
    if (!group) return;
    const form = event.currentTarget as HTMLFormElement;
    const add = parseIds(fieldValue(form, 'add'));
    void action.run(async () => {
      setGroup(await api.changeMembers(group.groupId, { add }));
      form.reset();
      await reload();
      return `Added ${add.join(', ')}.`;
    });
  };
  const remove = (member: string) => {
    if (!group) return;
    void action.run(async () => {
      setGroup(await api.changeMembers(group.groupId, { remove: [member] }));
      await reload();
      return `Removed ${member} from ${group.groupId}.`;
    });
  };
  const confirm = () => {
    if (!pending) return;
    setPending(undefined);
    void action.run(async () => {
      if (pending.kind === 'deleteGroup') {
        await api.deleteGroup(pending.groupId);
        setGroup(undefined);
        await reload();
        return `Deleted group ${pending.groupId}.`;
      }
      const { removed } = await api.deleteGroupMessages(pending.groupId, pending.from);
      return `Removed ${plural(removed.history, 'message')} from ${pending.groupId}’s history and ${plural(removed.queued, 'copy')} from queues.`;
    });
  };
  const askDeleteMessages = (event: Event) => {
    event.preventDefault();
    if (!group) return;
    const from = fieldValue(event.currentTarget as HTMLFormElement, 'from');
    if (from !== '') setPending({ kind: 'deleteMessages', groupId: group.groupId, from });
  };

  return html`
    <div class="columns">
      <section aria-labelledby="list-heading">
        <h3 id="list-heading">All groups</h3>
        ${listError && html`<p class="outcome error" role="alert">${listError}</p>`}
        ${page &&
        (page.groups.length === 0
          ? html`<p>No groups${cursors.length > 1 ? ' on this page' : ' yet'}.</p>`
          : html`<table class="groups">
              <thead><tr><th scope="col">group</th><th scope="col">members</th><th scope="col"><span class="visually-hidden">open</span></th></tr></thead>
              <tbody>
                ${page.groups.map(
                  (g) => html`<tr aria-current=${group?.groupId === g.groupId ? 'true' : undefined}>
                    <th scope="row"><code>${g.groupId}</code></th>
                    <td>${g.memberCount}</td>
                    <td><button type="button" class="quiet" aria-label=${`Open ${g.groupId}`} onClick=${() => open(g.groupId)}>Open</button></td>
                  </tr>`,
                )}
              </tbody>
            </table>`)}
        <div class="actions">
          <button type="button" class="quiet" disabled=${cursors.length <= 1} onClick=${() => setCursors(cursors.slice(0, -1))}>Previous page</button>
          <button type="button" class="quiet" disabled=${!page?.next} onClick=${() => page?.next && setCursors([...cursors, page.next])}>Next page</button>
        </div>

        <h3>Create a group</h3>
        <form onSubmit=${submitCreate}>
          <div class="field">
            <label for="group-id">Group id</label>
            <input id="group-id" name="groupId" required autocomplete="off" spellcheck="false" />
          </div>
          <div class="field">
            <label for="group-members">Members</label>
            <input id="group-members" name="members" autocomplete="off" spellcheck="false" aria-describedby="group-members-hint" />
            <p class="hint" id="group-members-hint">User ids, separated by commas or spaces. An existing group gets exactly these.</p>
          </div>
          <button type="submit" disabled=${create.busy}>Create</button>
          <${OutcomeLine} outcome=${create.outcome} />
        </form>
      </section>

      <section aria-labelledby="group-heading" class="panel">
        ${group
          ? html`
              <h3 id="group-heading">Group <code>${group.groupId}</code></h3>
              <p>${plural(group.memberCount, 'member')}; created ${new Date(group.createdAt).toLocaleString()}.</p>
              <ul class="members" aria-label="Members">
                ${group.members.map(
                  (member) => html`<li>
                    <code>${member}</code>
                    <button type="button" class="quiet" aria-label=${`Remove ${member}`} onClick=${() => remove(member)}>Remove</button>
                  </li>`,
                )}
              </ul>
              <form class="inline" onSubmit=${submitAdd}>
                <label for="group-add">Add members</label>
                <input id="group-add" name="add" required autocomplete="off" spellcheck="false" />
                <button type="submit" disabled=${action.busy}>Add</button>
              </form>
              <form class="inline" onSubmit=${askDeleteMessages}>
                <label for="group-from">Delete the messages of</label>
                <input id="group-from" name="from" required autocomplete="off" spellcheck="false" list="group-member-ids" />
                <datalist id="group-member-ids">${group.members.map((member) => html`<option value=${member} />`)}</datalist>
                <button type="submit" class="danger" disabled=${action.busy}>Delete messages…</button>
              </form>
              <button type="button" class="danger" onClick=${() => setPending({ kind: 'deleteGroup', groupId: group.groupId })}>Delete group…</button>
            `
          : html`<h3 id="group-heading">No group open</h3><p>Open one from the list, or create one.</p>`}
        ${pending && html`<${Confirmation} pending=${pending} onConfirm=${confirm} onCancel=${() => setPending(undefined)} />`}
        <${OutcomeLine} outcome=${action.outcome} />
      </section>
    </div>
  `;
}

function Confirmation({ pending, onConfirm, onCancel }: { pending: Pending; onConfirm: () => void; onCancel: () => void }) {
  const text =
    pending.kind === 'deleteGroup'
      ? html`Delete group <code>${pending.groupId}</code> and all of its memberships? Messages already queued for its members stay queued.`
      : html`Remove every message <code>${pending.from}</code> sent to <code>${pending.groupId}</code> from the group’s history and from
          every member’s undelivered queue? Messages already delivered to devices stay there. This cannot be undone.`;
  // Focus moves to the answer once, so a keyboard user hears the question and can answer at once.
  const answer = useRef<HTMLButtonElement>(null);
  useEffect(() => answer.current?.focus(), [pending]);
  return html`
    <div class="confirm" role="alertdialog" aria-labelledby="confirm-text" aria-modal="false">
      <p id="confirm-text">${text}</p>
      <button type="button" class="danger" ref=${answer} onClick=${onConfirm}>
        ${pending.kind === 'deleteGroup' ? 'Delete the group' : 'Delete the messages'}
      </button>
      <button type="button" class="quiet" onClick=${onCancel}>Cancel</button>
    </div>
  `;
}
