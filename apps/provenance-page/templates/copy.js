// Copy buttons: the Clipboard API where the page is a secure context, else a
// selected textarea and execCommand. Buttons stay hidden until this runs, so
// without script the page shows no dead controls.
(() => {
  const status = document.getElementById('copy-status');
  const fallbackCopy = (text) => {
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.top = '-1000px';
    document.body.appendChild(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    area.remove();
    return ok;
  };
  const copy = async (text) => {
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        return true;
      } catch {
        // Permission refused or not focused: try the fallback.
      }
    }
    return fallbackCopy(text);
  };
  // A link to a folded section or image opens it.
  const openTarget = () => {
    const target = location.hash ? document.getElementById(decodeURIComponent(location.hash.slice(1))) : null;
    for (let el = target; el; el = el.parentElement) if (el.tagName === 'DETAILS') el.open = true;
    const inner = target?.querySelector(':scope > details');
    if (inner) inner.open = true;
  };
  window.addEventListener('hashchange', openTarget);
  openTarget();
  for (const button of document.querySelectorAll('button[data-copy]')) {
    button.hidden = false;
    button.addEventListener('click', async () => {
      const source = document.getElementById(button.dataset.copy);
      if (!source) return;
      const ok = await copy(source.textContent);
      button.textContent = ok ? 'Copied' : 'Copy failed';
      if (status) status.textContent = ok ? 'Copied to the clipboard.' : 'Copy failed: select the text and copy it by hand.';
      setTimeout(() => {
        button.textContent = 'Copy';
      }, 2000);
    });
  }
})();
