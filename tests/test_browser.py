"""The docs site and the widgets, checked in a real browser as a person would use them.

1. `test_docs_site`: serves the built site (`nbs/_docs/`, made by `smalldocs render nbs` or `nbdev_docs`) from a loopback
   HTTP server, visits every page, and fails on any console error, page error, failed request or image that did not
   load, and on any formula cut off at the page column (every page; 00_forces also at a phone's width); a full-page
   screenshot of each page goes to tests/screenshots/.
2. `test_widgets_in_jupyterlab`: starts JupyterLab on 127.0.0.1 with a random token and throw-away config/data/runtime
   folders, opens nbs/08_widgets.ipynb, runs all cells from the Run menu, moves a slider of the force-banner explorer
   with the keyboard and checks that the explorer's picture (masks, histograms, banner) changed.

The browser is Debian's chromium (`apt-get install chromium`, at /usr/bin/chromium or $CSIP_CHROMIUM) driven by the
`playwright` Python package; `playwright install` is never used (it downloads a browser). Every request that is not to
loopback is aborted in the browser context. Every server the tests start is stopped by its process id. A missing
browser or playwright is a failure with the fix in the message, not a skip: CI installs both.
"""
import json, os, re, secrets, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse
import pytest

ROOT = Path(__file__).resolve().parent.parent
NBS, DOCS = ROOT / 'nbs', ROOT / 'nbs' / '_docs'
SHOTS = ROOT / 'tests' / 'screenshots'
CHROMIUM = os.environ.get('CSIP_CHROMIUM', '/usr/bin/chromium')
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-default-apps',
                 '--disable-extensions', '--metrics-recording-only', '--no-default-browser-check']
LOOPBACK = {'127.0.0.1', 'localhost', '::1', '[::1]'}
WIDGETS_NB = '08_widgets.ipynb'


def _sync_playwright():
    try: from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail('the playwright Python package is not installed: `pip install playwright` (it is in settings.ini '
                    'dev_requirements); never run `playwright install`, the tests use Debian\'s chromium')
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f'{CHROMIUM} not found: `apt-get install -y chromium` (or set CSIP_CHROMIUM to a chromium binary)')
    return sync_playwright


@pytest.fixture(scope='module')
def browser():
    sync_playwright = _sync_playwright()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=60_000)
        try: yield b
        finally: b.close()


def _is_local(url: str) -> bool:
    u = urlparse(url)
    return u.scheme in ('data', 'blob', 'about') or u.hostname in LOOPBACK


def _context(browser, blocked: list):
    "A browser context in which every request that is not to loopback (or in-page data:/blob:) is aborted and listed in `blocked`."
    ctx = browser.new_context(viewport=dict(width=1280, height=900), service_workers='block')
    def route(r):
        if _is_local(r.request.url): r.continue_()
        else: blocked.append(r.request.url); r.abort('blockedbyclient')
    ctx.route('**/*', route)
    return ctx


def _ours(msg) -> bool:
    "True for the console error chromium logs when *we* blocked a non-loopback request (not a fault of the page)."
    url = (msg.location or {}).get('url', '')
    return 'ERR_BLOCKED_BY_CLIENT' in msg.text and bool(url) and not _is_local(url)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def _wait_http(url: str, proc, timeout: float, what: str, log: Path | None = None):
    "Poll `url` until it answers 200; fail early when `proc` died (quoting the end of its `log`)."
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            tail = log.read_text(errors='replace')[-3000:] if log and log.exists() else ''
            pytest.fail(f'{what} exited with code {proc.returncode} before answering at {url}\n{tail}')
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200: return
        except OSError: pass
        time.sleep(0.25)
    pytest.fail(f'{what} did not answer at {url} within {timeout:.0f} s')


def _stop(proc, timeout: float = 10):
    "Stop a server started with start_new_session=True: SIGTERM, then SIGKILL, to its process group (its id = its pid)."
    if proc.poll() is None:
        try: os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError: return
        try: proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL); proc.wait(timeout)


def _start(cmd, env=None, log=None):
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT,
                            start_new_session=True)


def _shot_name(prefix: str, rel: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS / f"{prefix}_{re.sub(r'[^A-Za-z0-9_.-]+', '_', rel)}.png"


# ---------------------------------------------------------------------------------------------------------------
# 1. The rendered docs site

_IMAGES_JS = """async () => {
  const imgs = [...document.images];
  imgs.forEach(i => { i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.decode().catch(() => null)));
  return imgs.filter(i => !i.complete || i.naturalWidth === 0).map(i => (i.currentSrc || i.src || '(no src)').slice(0, 120));
}"""


# A display formula is cut when it is wider than its box and the box does not scroll (the page column clips it), or
# taller than a box that hides its overflow; an inline formula when it sticks out of its paragraph. KaTeX draws
# display math in `.katex-display`, inline math in `.katex`.
_CUT_MATH_JS = """() => {
  const cut = [], name = e => e.textContent.replace(/\\s+/g, ' ').slice(0, 40);
  for (const e of document.querySelectorAll('.katex-display')) {
    const s = getComputedStyle(e), scrolls = v => v === 'auto' || v === 'scroll';
    if (e.scrollWidth > e.clientWidth + 1 && !scrolls(s.overflowX))
      cut.push(`display formula "${name(e)}" is ${e.scrollWidth}px wide in a ${e.clientWidth}px box that does not `
               + 'scroll');
    if (e.scrollHeight > e.clientHeight + 1 && (s.overflowY === 'hidden' || s.overflowY === 'clip'))
      cut.push(`display formula "${name(e)}" is ${e.scrollHeight}px tall in a ${e.clientHeight}px box that hides `
               + 'the rest');
  }
  for (const e of document.querySelectorAll('.katex')) {
    if (e.closest('.katex-display')) continue;
    const block = e.parentElement.closest('p, li, td, th, dd, blockquote, div');
    const over = e.getBoundingClientRect().right - block.getBoundingClientRect().right;
    if (over > 1) cut.push(`inline formula "${name(e)}" sticks out of its paragraph by ${Math.round(over)}px`);
  }
  return cut;
}"""
MATH_PAGE, NARROW = '00_forces.html', dict(width=390, height=844)   # a phone held upright


def test_docs_site(browser):
    if not (DOCS / 'index.html').is_file():
        pytest.fail(f'{DOCS}/index.html not found: build the site first with `smalldocs render nbs` (or nbdev_docs)')
    pages = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob('*.html') if 'site_libs' not in p.parts)
    widgets_page = Path(WIDGETS_NB).with_suffix('.html').name
    assert widgets_page in pages, f'{widgets_page} is missing from {DOCS}: the widgets notebook was not rendered'
    port = _free_port()
    server = _start([sys.executable, '-m', 'http.server', str(port), '--bind', '127.0.0.1', '--directory', str(DOCS)])
    problems, blocked = {}, []
    try:
        _wait_http(f'http://127.0.0.1:{port}/index.html', server, 30, 'the docs HTTP server')
        ctx = _context(browser, blocked)
        try:
            for rel in pages:
                page, errs = ctx.new_page(), []
                page.on('console', lambda m: errs.append(f'console error: {m.text} ({(m.location or {}).get("url", "")[:120]})')
                        if m.type == 'error' and not _ours(m) else None)
                page.on('pageerror', lambda e: errs.append(f'page error: {e}'))
                page.on('requestfailed', lambda r: errs.append(f'request failed: {r.url[:120]} ({r.failure})')
                        if _is_local(r.url) else None)
                page.on('response', lambda r: errs.append(f'HTTP {r.status}: {r.url[:120]}') if r.status >= 400 else None)
                resp = page.goto(f'http://127.0.0.1:{port}/{rel}', wait_until='load', timeout=30_000)
                if resp is None or resp.status != 200: errs.append(f'page answered {resp and resp.status}')
                errs += [f'image did not load: {src}' for src in page.evaluate(_IMAGES_JS)]
                page.screenshot(path=str(_shot_name('docs', rel)), full_page=True)
                errs += page.evaluate(_CUT_MATH_JS)
                if rel == MATH_PAGE:   # formulas typeset offline by the KaTeX copy next to the pages (tools/vendor_katex.py)
                    n = page.evaluate("() => document.querySelectorAll('.katex').length")
                    if n < 10: errs.append(f'only {n} typeset formulas on the force banners page (is KaTeX served with the site?)')
                    page.set_viewport_size(NARROW)
                    errs += [f'at {NARROW["width"]}px: {e}' for e in page.evaluate(_CUT_MATH_JS)]
                    page.screenshot(path=str(_shot_name('docs_narrow', rel)), full_page=True)
                if rel == widgets_page:   # the static renders of the widgets are on the page, without a kernel
                    n = page.evaluate("() => [...document.images].filter(i => i.naturalWidth > 300).length")
                    if n < 4: errs.append(f'only {n} figures on the widgets page (expected the static renders)')
                if errs: problems[rel] = errs
                page.close()
        finally: ctx.close()
    finally: _stop(server)
    assert not [u for u in blocked if 'katex' in u], f'pages still ask a CDN for KaTeX: {sorted(set(blocked))[:3]}'
    if blocked:   # not a failure: other CDN links of the renderer (web fonts); the pages must work without them
        print('non-loopback requests blocked:', *sorted(set(u[:100] for u in blocked)), sep='\n  ')
    assert not problems, 'problems on the docs site:\n' + '\n'.join(f'{p}:\n  ' + '\n  '.join(e) for p, e in problems.items())


# ---------------------------------------------------------------------------------------------------------------
# 2. The widgets in JupyterLab

def _lab_settings(config_dir: Path):
    "User settings for the throw-away JupyterLab: no autosave (the repo's notebook stays as it is), no news, all cells in the DOM."
    s = config_dir / 'lab' / 'user-settings' / '@jupyterlab'
    for ext, name, value in (('docmanager-extension', 'plugin', {'autosave': False}),
                             ('apputils-extension', 'notification', {'fetchNews': 'false', 'checkForUpdates': False}),
                             ('notebook-extension', 'tracker', {'windowingMode': 'none'})):
        (s / ext).mkdir(parents=True, exist_ok=True)
        (s / ext / f'{name}.jupyterlab-settings').write_text(json.dumps(value))


def _accept_kernel_dialog(page) -> bool:
    "Click 'Select' when JupyterLab asks which kernel to use (it proposes the notebook's python3); True if it did."
    dialog = page.locator('.jp-Dialog')
    if dialog.count() and 'Select Kernel' in dialog.first.inner_text():
        dialog.first.locator('.jp-mod-accept').click(); return True
    return False


_CELL_ERROR_JS = """() => [...document.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
  .map(e => e.textContent).filter(t => t.includes('Traceback')).join('\\n').slice(0, 3000)"""


def _wait_until(page, js: str, timeout: float, what: str):
    "Poll the page until `js` is true, accepting the kernel dialog whenever it shows; fail at once on a cell's traceback."
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        _accept_kernel_dialog(page)
        if page.evaluate(js): return
        err = page.evaluate(_CELL_ERROR_JS)
        if err:
            page.screenshot(path=str(_shot_name('jupyterlab', 'cell_error')))
            pytest.fail(f'a cell of {WIDGETS_NB} raised an error in JupyterLab:\n{err}')
        page.wait_for_timeout(500)
    page.screenshot(path=str(_shot_name('jupyterlab', 'failed_' + re.sub(r'\W+', '_', what))))
    pytest.fail(f'JupyterLab: {what} did not happen within {timeout:.0f} s (see tests/screenshots/)')


_KERNEL_IDLE_JS = "() => [...document.querySelectorAll('.jp-StatusBar-Widget')].some(w => /\\|\\s*Idle/.test(w.textContent))"

_ALL_RUN_JS = """() => {
  const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt')];
  return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
}"""


@contextmanager
def _lab_notebook(browser, nb_name: str, run_timeout: float = 150):
    "A throw-away JupyterLab on loopback with `nb_name` opened and all its cells run from the Run menu -> `(page, errors)`."
    nb_path = NBS / nb_name
    assert nb_path.is_file(), f'{nb_path} not found'
    nb_before = nb_path.read_bytes()
    tmp = Path(tempfile.mkdtemp(prefix='csip-lab-'))
    env = {**os.environ, 'JUPYTER_CONFIG_DIR': str(tmp / 'config'), 'JUPYTER_DATA_DIR': str(tmp / 'data'),
           'JUPYTER_RUNTIME_DIR': str(tmp / 'runtime'), 'IPYTHONDIR': str(tmp / 'ipython'), 'MPLCONFIGDIR': str(tmp / 'mpl'),
           'JUPYTER_PLATFORM_DIRS': '1', 'HF_HUB_OFFLINE': '1', 'MPLBACKEND': 'module://matplotlib_inline.backend_inline'}
    _lab_settings(tmp / 'config')
    port, token = _free_port(), secrets.token_hex(16)
    log = open(tmp / 'jupyterlab.log', 'wb')
    lab = _start([sys.executable, '-m', 'jupyterlab', '--no-browser', '--ip=127.0.0.1', f'--port={port}',
                  '--ServerApp.port_retries=0', f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={NBS}',
                  '--LabApp.news_url=', '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate',
                  '--LabApp.extension_manager=readonly', '--ServerApp.allow_remote_access=False']
                 + (['--allow-root'] if os.geteuid() == 0 else []), env=env, log=log)
    try:
        _wait_http(f'http://127.0.0.1:{port}/api/status?token={token}', lab, 90, 'JupyterLab', tmp / 'jupyterlab.log')
        ctx = _context(browser, [])
        try:
            page, errors = ctx.new_page(), []
            page.on('pageerror', lambda e: errors.append(str(e)))
            page.goto(f'http://127.0.0.1:{port}/lab/tree/{nb_name}?token={token}', wait_until='load', timeout=60_000)
            page.wait_for_selector('.jp-Notebook .jp-Cell', timeout=60_000)
            _wait_until(page, _KERNEL_IDLE_JS, 90, 'kernel idle')
            page.locator('.lm-MenuBar-itemLabel', has_text=re.compile(r'^Run$')).click()
            page.locator('.lm-Menu-itemLabel', has_text=re.compile(r'^Run All Cells$')).click()
            _wait_until(page, _ALL_RUN_JS, run_timeout, 'all cells run')
            assert not page.evaluate(_CELL_ERROR_JS), f'a cell of {nb_name} raised an error in JupyterLab'
            yield page, errors
        finally: ctx.close()
    finally:
        _stop(lab); log.close()
        shutil.rmtree(tmp, ignore_errors=True)
    assert nb_path.read_bytes() == nb_before, f'{nb_path} was modified by the JupyterLab session'


def _check_find_pairs_like_this(page):
    "The explorer with a `PairSearch` (08_widgets): moving A's x slider changes the strip of nearest gallery pairs."
    like = page.locator('img.csip-like').first
    like.wait_for(state='visible', timeout=30_000)
    widget = page.locator('.jp-OutputArea-output').filter(has=page.locator('img.csip-like')).first
    status = widget.locator('.csip-status').first
    like.scroll_into_view_if_needed()
    src0, shot0 = like.get_attribute('src'), like.screenshot()
    assert like.evaluate('el => el.naturalWidth') > 300, 'the strip of nearest pairs is not drawn'
    handle = widget.locator('.csip-a-x .noUi-handle').first
    handle.focus()
    for _ in range(12): handle.press('ArrowLeft')
    page.wait_for_function('([el, s]) => el.getAttribute("src") !== s', arg=[like.element_handle(), src0],
                           timeout=30_000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(_shot_name('jupyterlab', 'find_pairs_like_this')), full_page=False)
    assert like.screenshot() != shot0, 'the nearest pairs look the same after moving the slider'
    assert 'nearest pairs' in status.inner_text(), f'status does not time the search: {status.inner_text()!r}'


def test_widgets_in_jupyterlab(browser):
    "08_widgets run from JupyterLab's Run menu: the explorer follows its slider, and so does its \"find pairs like this\"."
    with _lab_notebook(browser, WIDGETS_NB) as (page, errors):
        banner = page.locator('img.csip-banner').first
        banner.wait_for(state='visible', timeout=30_000)
        status = page.locator('.csip-status').first
        page.screenshot(path=str(_shot_name('jupyterlab', 'after_run_all')), full_page=False)
        banner.scroll_into_view_if_needed()
        src0, shot0, status0 = banner.get_attribute('src'), banner.screenshot(), status.inner_text()
        # move object A's x slider with the keyboard: focus its handle, press the left arrow
        handle = page.locator('.csip-a-x .noUi-handle').first
        handle.focus()
        for _ in range(8): handle.press('ArrowLeft')
        page.wait_for_function('([el, s]) => el.getAttribute("src") !== s', arg=[banner.element_handle(), src0],
                               timeout=30_000)
        page.wait_for_timeout(500)   # let the last of the eight updates arrive
        shot1, status1 = banner.screenshot(), status.inner_text()
        page.screenshot(path=str(_shot_name('jupyterlab', 'after_slider')), full_page=False)
        assert shot1 != shot0, 'the explorer picture looks the same after moving the slider'
        assert status1 != status0 and 'redraw' in status1, f'status did not follow the slider: {status0!r} -> {status1!r}'
        _check_find_pairs_like_this(page)
        assert not errors, f'page errors in JupyterLab: {errors}'
