// DOM helpers of the demo pages: lookups, element creation, and rendering
// that touches the document only when something changed.

export const byId = (id) => document.getElementById(id);

export function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

// Panels re-render every 500 ms; writing only changed markup keeps text
// selection and hover states alive.
const renderedHtml = new WeakMap();

export function setHtml(el, html, { force = false } = {}) {
  if (!force && renderedHtml.get(el) === html) return;
  renderedHtml.set(el, html);
  el.innerHTML = html;
}

export function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

// One <dt>/<dd> pair of an info grid. The space between them makes
// textContent read "Peer ID: abc", which tests match.
export function infoRow(label, valueHtml) {
  return `<dt>${label}</dt> <dd>${valueHtml}</dd>`;
}

// Collapses a burst of calls into one run of fn: after delayMs, or at the
// next animation frame when delayMs is null.
export function coalesced(fn, delayMs = null) {
  let pending = false;
  const run = () => {
    pending = false;
    fn();
  };
  return () => {
    if (pending) return;
    pending = true;
    if (delayMs === null) requestAnimationFrame(run);
    else setTimeout(run, delayMs);
  };
}

export function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}
