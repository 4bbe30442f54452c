// The login form (keystone only): user, password, project, domain. The password field is never filled back in.

import { html } from 'hono/html';
import { BASE, csrfInput, layout, type Html } from './parts.ts';

export function loginPage(csrf: string, values: { user?: string; project?: string; domain?: string }, error: string | null): Html {
  return layout(
    { title: 'Log in', nav: null, viewer: null, csrf, loginEnabled: true, live: false, flash: error ? { kind: 'alert', text: error } : undefined },
    html`<section class="panel login" aria-labelledby="login-h">
      <h2 id="login-h">Keystone credentials</h2>
      <form method="post" action="${BASE}/login">
        ${csrfInput(csrf)}
        <div>
          <label for="login-user">User</label><input type="text" id="login-user" name="user" value="${values.user ?? ''}" autocomplete="username" autofocus />
        </div>
        <div><label for="login-password">Password</label><input type="password" id="login-password" name="password" autocomplete="current-password" /></div>
        <div><label for="login-project">Project</label><input type="text" id="login-project" name="project" value="${values.project ?? ''}" /></div>
        <div><label for="login-domain">Domain</label><input type="text" id="login-domain" name="domain" value="${values.domain ?? 'Default'}" /></div>
        <div><button type="submit">Log in</button></div>
      </form>
    </section>`,
  );
}
