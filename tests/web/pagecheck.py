"""Page checks the web layout tests share: the contrast of every text against what is really behind it,
and viewport-sized screenshots of each screen (test-artifacts/screens/)."""

from __future__ import annotations

import time

from browser import PROJECT_ROOT, Tab

SCREENS = PROJECT_ROOT / "test-artifacts" / "screens"

# Contrast of every visible text on the page against what is really behind it: its own and its ancestors'
# background colours composited (with their alpha and opacity) over one another; where a photo, video,
# canvas or url() background lies behind the text (between it and the first opaque layer), the worst of a
# black and a white picture is assumed, so text over images passes only on a scrim or a solid badge.
# Inputs are checked for their value or, when empty, their placeholder. Text of disabled controls is
# exempt (WCAG 1.4.3: inactive interface components).
CONTRAST = r"""(minimum) => {
    const parse = (s) => {
        if (!s || s === 'transparent') return [0, 0, 0, 0];
        let m = s.match(/^rgba?\(([^)]*)\)$/);
        if (m) {
            const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
            return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
        }
        m = s.match(/^color\(srgb\s+([^)]*)\)$/);
        if (m) {
            const p = m[1].split(/[\s\/]+/).filter(Boolean).map(Number);
            return [p[0] * 255, p[1] * 255, p[2] * 255, p.length > 3 ? p[3] : 1];
        }
        throw new Error(`colour format not understood: ${s}`);
    };
    const over = (top, under) => [0, 1, 2].map((i) => top[i] * top[3] + under[i] * (1 - top[3]));
    const lum = (c) => {
        const [r, g, b] = c.map((v) => {
            const s = v / 255;
            return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const ratio = (a, b) => {
        const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
        return (x + 0.05) / (y + 0.05);
    };
    const opacity = (el) => {
        let o = 1;
        for (let e = el; e; e = e.parentElement) o *= parseFloat(getComputedStyle(e).opacity);
        return o;
    };
    const intersects = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 0.5
        && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 0.5;
    // What of an element is on the page: its box cut to every scrolling or clipping box around it.
    const shown = (el) => {
        const r = el.getBoundingClientRect();
        let [left, top, right, bottom] = [r.left, r.top, r.right, r.bottom];
        for (let e = el.parentElement; e; e = e.parentElement) {
            if (getComputedStyle(e).overflow === 'visible') continue;
            const c = e.getBoundingClientRect();
            [left, top, right, bottom] = [Math.max(left, c.left), Math.max(top, c.top),
                                          Math.min(right, c.right), Math.min(bottom, c.bottom)];
        }
        return { left, top, right, bottom, width: right - left, height: bottom - top };
    };
    const media = [...document.querySelectorAll('img, video, canvas, *')].filter((el) => {
        if (!el.checkVisibility({ visibilityProperty: true })) return false;  // e.g. in a closed <details>
        if (el.matches('img, video, canvas')) return true;
        return getComputedStyle(el).backgroundImage.includes('url(');
    }).map((el) => ({ el, rect: shown(el) })).filter((m) => m.rect.width > 0 && m.rect.height > 0);

    // The colour behind `el`'s text, from `el` up to (not including) `stop`, over `base`.
    const backdrop = (el, stop, base) => {
        const layers = [];
        for (let e = el; e && e !== stop; e = e.parentElement) {
            const bg = parse(getComputedStyle(e).backgroundColor);
            if (bg[3] > 0) layers.push([bg[0], bg[1], bg[2], bg[3] * opacity(e)]);
            if (bg[3] >= 1 && opacity(e) >= 1) break;
        }
        let colour = base;
        for (const layer of layers.reverse()) colour = over(layer, colour);
        return colour;
    };
    const canvasColour = () => {
        const html = parse(getComputedStyle(document.documentElement).backgroundColor);
        const body = parse(getComputedStyle(document.body).backgroundColor);
        return over(body, over(html, [255, 255, 255]));
    };

    const inactive = (el) => Boolean(el.closest('button:disabled, fieldset:disabled, [aria-disabled="true"]'))
        || (el.matches('input, select, textarea') && el.disabled)
        || (el.tagName === 'LABEL' && el.control && el.control.disabled);
    const hidden = (el) => !el.checkVisibility({ visibilityProperty: true, opacityProperty: false })
        || Boolean(el.closest('.visually-hidden, option, script, style, noscript, template'));

    const failures = [];
    const checked = [];
    const check = (el, colourText, text) => {
        const rect = el.getBoundingClientRect();
        if (!rect.width || !rect.height) return;
        const fg = parse(colourText);
        const alpha = fg[3] * opacity(el);
        const behind = [backdrop(el, null, canvasColour())];
        const pictures = [];
        for (const m of media) {
            if (m.el === el || el.contains(m.el) || !intersects(m.rect, rect)) continue;
            // The picture is painted above the backgrounds of the ancestors it shares with the text.
            let common = m.el;
            while (common && !common.contains(el)) common = common.parentElement;
            const stop = common === m.el ? m.el : common;
            for (const pic of [[0, 0, 0], [255, 255, 255]]) behind.push(backdrop(el, stop, pic));
            pictures.push(`${m.el.tagName.toLowerCase()}.${m.el.className}`);
        }
        const worst = Math.min(...behind.map((b) => ratio(over([fg[0], fg[1], fg[2], alpha], b), b)));
        const where = `${el.tagName.toLowerCase()}.${String(el.className).trim().replace(/\s+/g, '.')}`;
        const item = { text: text.trim().slice(0, 50), where, ratio: Math.round(worst * 100) / 100,
                       colour: colourText, over: pictures.join(' ') };
        checked.push(item);
        if (worst < minimum) failures.push(item);
    };

    for (const el of document.body.querySelectorAll('*')) {
        if (hidden(el) || inactive(el)) continue;
        if (el.matches('input:not([type=checkbox], [type=radio], [type=file], [type=range]), textarea, select')) {
            const value = el.tagName === 'SELECT' ? el.selectedOptions[0]?.text || '' : el.value;
            if (value) check(el, getComputedStyle(el).color, value);
            else if (el.placeholder) check(el, getComputedStyle(el, '::placeholder').color, el.placeholder);
            continue;
        }
        const own = [...el.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE && /\S/.test(n.textContent));
        if (own.length) check(el, getComputedStyle(el).color, own.map((n) => n.textContent).join(' '));
    }
    return { failures, count: checked.length };
}"""


def contrast_failures(tab: Tab, *, where: str) -> list[str]:
    """What fails 4.5:1 on the page as it is now, each as 'screen: text (where) ratio'."""
    tab.page.evaluate("window.scrollTo(0, 0)")
    got = tab.page.evaluate(CONTRAST, 4.5)
    assert got["count"] > 5, f"{where}: only {got['count']} texts found"
    return [f"{where}: {f['text']!r} ({f['where']}, {f['colour']}{', over ' + f['over'] if f['over'] else ''}) "
            f"{f['ratio']}:1" for f in got["failures"]]


def screen(tab: Tab, name: str, *, at: str | None = None) -> None:
    """A viewport-sized screenshot, scrolled so that `at` (a selector) starts at the top."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    if at:
        tab.page.locator(at).first.evaluate("e => e.scrollIntoView({block: 'start'})")
    else:
        tab.page.evaluate("window.scrollTo(0, 0)")
    time.sleep(0.2)
    width = tab.page.viewport_size["width"]
    tab.page.screenshot(path=str(SCREENS / f"{name}-{'wide' if width > 640 else 'narrow'}.png"), animations="disabled")


