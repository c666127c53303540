/// <reference lib="dom" />
/**
 * The admin web console (SPEC §11): one screen per resource of the admin API, as EMQX Dashboard and
 * Centrifugo's admin UI keep them, each doing one thing. Static files only: built by esbuild from
 * here into `dist/console/`, served by `npm start` at :3002 and by `pigeonhole console`.
 */
import { html, render } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { AdminApi, ApiError } from './api';
import { GroupsScreen } from './screens/groups';
import { OverviewScreen } from './screens/overview';
import { SettingsScreen } from './screens/settings';
import { SystemMessageScreen } from './screens/system-message';
import { TokensScreen } from './screens/tokens';
import { UsersScreen } from './screens/users';
import { forgetKey, storedKey, storeKey, takeKeyFromLocation } from './session';
import { describeError, fieldValue } from './ui';

const screens = [
  { id: 'overview', title: 'Overview', Screen: OverviewScreen },
  { id: 'settings', title: 'App settings', Screen: SettingsScreen },
  { id: 'users', title: 'Users', Screen: UsersScreen },
  { id: 'groups', title: 'Groups', Screen: GroupsScreen },
  { id: 'system', title: 'System message', Screen: SystemMessageScreen },
  { id: 'tokens', title: 'Tokens', Screen: TokensScreen },
] as const;

type ScreenId = (typeof screens)[number]['id'];

function currentScreen(): ScreenId {
  const id = location.hash.slice(1);
  return screens.find((screen) => screen.id === id)?.id ?? 'overview';
}

function App() {
  const [key, setKey] = useState(storedKey());
  const [screen, setScreen] = useState<ScreenId>(currentScreen());
  useEffect(() => {
    const follow = () => setScreen(currentScreen());
    addEventListener('hashchange', follow);
    return () => removeEventListener('hashchange', follow);
  }, []);
  useEffect(() => {
    const title = screens.find((s) => s.id === screen)?.title ?? '';
    document.title = `${title} · Pigeonhole admin`;
  }, [screen]);

  const signIn = (signedIn: string) => {
    storeKey(signedIn);
    setKey(signedIn);
  };
  if (key === null) return html`<${SignIn} onSignIn=${signIn} />`;
  const api = new AdminApi(key);
  const active = screens.find((s) => s.id === screen) ?? screens[0];
  const signOut = () => {
    forgetKey();
    setKey(null);
  };
  return html`
    <header class="bar">
      <h1>Pigeonhole <span>admin</span></h1>
      <nav aria-label="Screens">
        <ul>
          ${screens.map(
            (s) => html`<li><a href=${`#${s.id}`} aria-current=${s.id === screen ? 'page' : undefined}>${s.title}</a></li>`,
          )}
        </ul>
      </nav>
      <button type="button" class="quiet" onClick=${signOut}>Sign out</button>
    </header>
    <main id="main" tabindex="-1">
      <h2>${active.title}</h2>
      <${active.Screen} key=${active.id} api=${api} />
    </main>
  `;
}

/** Without `#key=…` in the URL: the admin key, checked against the API before it is kept. */
function SignIn({ onSignIn }: { onSignIn: (key: string) => void }) {
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const key = fieldValue(event.currentTarget as HTMLFormElement, 'adminKey');
    if (key === '') return setError('Enter the admin key.');
    setBusy(true);
    try {
      await new AdminApi(key).getConfig();
      onSignIn(key);
    } catch (caught) {
      setError(caught instanceof ApiError && caught.status === 403 ? 'That is not the admin key.' : describeError(caught));
    } finally {
      setBusy(false);
    }
  };
  return html`
    <main class="sign-in">
      <h1>Pigeonhole <span>admin</span></h1>
      <form onSubmit=${submit}>
        <label for="adminKey">Admin key</label>
        <p class="hint" id="adminKey-hint">The key <code>npm start</code> prints. It is kept in this tab only.</p>
        <input id="adminKey" name="adminKey" type="password" autocomplete="off" required aria-describedby="adminKey-hint" />
        <button type="submit" disabled=${busy}>Sign in</button>
        ${error && html`<p class="outcome error" role="alert">${error}</p>`}
      </form>
    </main>
  `;
}

takeKeyFromLocation();
const root = document.getElementById('app');
if (root) render(html`<${App} />`, root);
