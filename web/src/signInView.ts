import { errorText } from './api.ts';
import { h } from './dom.ts';
import { signIn } from './session.ts';
import type { View, ViewContext } from './view.ts';
import type { PageConfig } from './wire.ts';

const SUGGESTED_USERS = ['demo', 'alice', 'bob'];

/**
 * Sign-in. Dev mode: pick a user id (and roles) and the service mints a demo token
 * (`POST /dev/tokens`). JWKS mode: paste an access token from the identity provider.
 * Either way the token goes to `sessionStorage`, never into a URL.
 */
export function showSignIn(ctx: ViewContext, config: PageConfig, message: string | undefined, signedIn: () => void): View {
  const error = h('p', { class: 'form-error', id: 'sign-in-error', role: 'alert' });
  const intro = message ? h('p', { class: 'notice-text', role: 'status' }, message) : null;
  const form = config.dev_sign_in ? devForm() : pasteForm();
  ctx.root.replaceChildren(
    h('section', { class: 'card sign-in', 'aria-labelledby': 'sign-in-heading' }, h('h1', { id: 'sign-in-heading' }, 'Sign in'), intro, form, error),
  );
  document.title = 'Sign in — statuscast';
  form.querySelector<HTMLElement>('input, textarea')?.focus();

  function devForm(): HTMLFormElement {
    const user = h('input', {
      id: 'sign-in-user',
      name: 'sub',
      list: 'sign-in-users',
      required: true,
      autocomplete: 'username',
      // Browsers compile `pattern` with the `v` flag, where `|` and `-` must be escaped in a class.
      pattern: '[A-Za-z0-9._:\\|@\\-]{1,128}',
      value: 'demo',
      'aria-describedby': 'sign-in-user-hint',
    });
    const roles = ['admin', 'auditor'].map((role) =>
      h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'role', value: role }), ` ${role}`, h('span', { class: 'muted' }, role === 'admin' ? ' (sees every job)' : ' (reads every job)')),
    );
    const form = h(
      'form',
      { id: 'dev-sign-in', class: 'form' },
      h('p', { class: 'muted' }, 'Development mode: choose who you are. The service mints a demo token for that user; it stays in this browser tab only.'),
      h('label', { for: 'sign-in-user' }, 'User id'),
      user,
      h('datalist', { id: 'sign-in-users' }, ...SUGGESTED_USERS.map((name) => h('option', { value: name }))),
      h('p', { class: 'hint', id: 'sign-in-user-hint' }, h('code', null, 'npm run demo'), ' creates jobs for the user ', h('code', null, 'demo'), '.'),
      h('fieldset', null, h('legend', null, 'Roles (optional)'), ...roles),
      h('button', { type: 'submit', class: 'button primary' }, 'Sign in'),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const chosen = [...form.querySelectorAll<HTMLInputElement>('input[name=role]:checked')].map((input) => input.value);
      void submit(() => ctx.api.devToken(user.value.trim(), chosen));
    });
    return form;
  }

  function pasteForm(): HTMLFormElement {
    const token = h('textarea', { id: 'sign-in-token', name: 'token', rows: 4, required: true, spellcheck: false, autocomplete: 'off' });
    const form = h(
      'form',
      { id: 'token-sign-in', class: 'form' },
      h('p', { class: 'muted' }, 'Paste an access token (JWT) issued by your identity provider for this service. It stays in this browser tab only.'),
      h('label', { for: 'sign-in-token' }, 'Access token'),
      token,
      h('button', { type: 'submit', class: 'button primary' }, 'Use token'),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void submit(async () => token.value.trim());
    });
    return form;
  }

  async function submit(obtain: () => Promise<string>): Promise<void> {
    error.textContent = '';
    try {
      const token = await obtain();
      if (!signIn(token)) {
        error.textContent = 'That is not a valid, unexpired token.';
        return;
      }
      signedIn();
    } catch (failure) {
      error.textContent = `Sign-in failed: ${errorText(failure)}`;
    }
  }

  return { dispose() {} };
}
