// Sign in and register. The first account on a new server becomes its admin.
import { api, describeError } from "./api.js";
import { h, replace } from "./dom.js";

async function signIn(email, password) {
  const body = await api("/api/auth/login", { method: "POST", json: { email, password } });
  return body.user;
}

/** The sign-in / register form. onSignedIn(user) when done. */
export function authForm(onSignedIn, { heading = "Sign in to LM WebUI" } = {}) {
  let mode = "login";
  const email = h("input#auth-email", { type: "email", name: "email", autocomplete: "username", required: true });
  const password = h("input#auth-password", { type: "password", name: "password", autocomplete: "current-password", required: true, minlength: 8 });
  const status = h("p.error-line", { role: "alert", hidden: true });
  const submit = h("button.primary", { type: "submit" }, "Sign in");
  const switcher = h("button.link", { type: "button" }, "Create an account");
  const title = h("h1", heading);
  const hint = h("p.hint", "The first account created on a new server is its administrator.");
  const setMode = (m) => {
    mode = m;
    title.textContent = m === "login" ? heading : "Create an account";
    submit.textContent = m === "login" ? "Sign in" : "Create account";
    switcher.textContent = m === "login" ? "Create an account" : "I have an account";
    password.autocomplete = m === "login" ? "current-password" : "new-password";
    status.hidden = true;
  };
  switcher.addEventListener("click", () => setMode(mode === "login" ? "register" : "login"));
  const form = h(
    "form.auth-form",
    {
      "aria-labelledby": "auth-title",
      onsubmit: async (e) => {
        e.preventDefault();
        submit.disabled = true;
        status.hidden = true;
        try {
          if (mode === "register") {
            await api("/api/auth/register", { method: "POST", json: { email: email.value, password: password.value } });
          }
          onSignedIn(await signIn(email.value, password.value));
        } catch (err) {
          replace(status, describeError(err));
          status.hidden = false;
        } finally {
          submit.disabled = false;
        }
      },
    },
    title,
    h("label", { for: "auth-email" }, "Email"),
    email,
    h("label", { for: "auth-password" }, "Password"),
    password,
    status,
    submit,
    switcher,
    hint,
  );
  title.id = "auth-title";
  return form;
}

/** The whole page while signed out. */
export function renderSignIn(root, onSignedIn) {
  replace(root, h("main.auth-page", authForm(onSignedIn)));
  root.querySelector("input")?.focus();
}

/**
 * The session ran out and could not be refreshed: sign in again in a dialog over the
 * page, so nothing typed is lost. Resolves with the user.
 */
export function signInAgain() {
  return new Promise((resolve) => {
    const dlg = h("dialog.auth-dialog", { "aria-label": "Sign in again" });
    dlg.append(
      h("p.hint", "Your session expired. Sign in again to continue; nothing you typed is lost."),
      authForm((user) => {
        dlg.close();
        dlg.remove();
        resolve(user);
      }, { heading: "Sign in again" }),
    );
    dlg.addEventListener("cancel", (e) => e.preventDefault());
    document.body.append(dlg);
    dlg.showModal();
  });
}

export async function signOut() {
  try {
    await api("/api/auth/logout", { method: "POST" });
  } catch (err) {
    console.warn("logout", describeError(err));
  }
}
