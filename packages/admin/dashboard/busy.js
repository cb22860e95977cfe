// Busy forms: while a request runs, the form's buttons are disabled and the submit button says what is
// happening ("Creating…"), from its data-busy-label.

/**
 * Runs `run` with `form` busy, and restores the form whatever happens.
 *
 * @template T
 * @param {HTMLFormElement} form
 * @param {() => Promise<T>} run
 * @returns {Promise<T>}
 */
export async function withBusy(form, run) {
  const buttons = [...form.querySelectorAll('button')];
  const submit = form.querySelector('button[type="submit"]');
  const label = submit?.textContent ?? '';
  form.setAttribute('aria-busy', 'true');
  for (const button of buttons) button.disabled = true;
  if (submit instanceof HTMLButtonElement && submit.dataset.busyLabel)
    submit.textContent = submit.dataset.busyLabel;
  try {
    return await run();
  } finally {
    form.setAttribute('aria-busy', 'false');
    for (const button of buttons) button.disabled = false;
    if (submit) submit.textContent = label;
  }
}
