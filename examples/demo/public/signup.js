// The sign-up form: POST /signup as JSON, then on to the API keys page. Errors show the server's message.

const form = document.getElementById('signup-form');
const input = document.getElementById('organization');
const error = document.getElementById('signup-error');

if (form instanceof HTMLFormElement && input instanceof HTMLInputElement && error instanceof HTMLElement) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const organization = input.value.trim();
    if (organization === '') {
      showError('Enter the name of your organization.');
      return;
    }
    const button = form.querySelector('button');
    if (button) button.disabled = true;
    try {
      const response = await fetch('/signup', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ organization }),
      });
      if (response.status === 201) {
        window.location.assign('/dashboard/api-keys');
        return;
      }
      const body = await response.json().catch(() => null);
      const details = Array.isArray(body?.error?.details) ? body.error.details : [];
      const message =
        details[0]?.message ?? body?.error?.message ?? `The server answered ${response.status}.`;
      showError(`${message}`);
    } catch {
      showError('The server could not be reached. Try again.');
    } finally {
      if (button) button.disabled = false;
    }
  });
}

/** @param {string} message */
function showError(message) {
  if (!(error instanceof HTMLElement) || !(input instanceof HTMLInputElement)) return;
  error.textContent = message;
  error.classList.add('demo-shown');
  input.setAttribute('aria-invalid', 'true');
  input.focus();
}
