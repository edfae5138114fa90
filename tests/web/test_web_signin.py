"""Opening the app signed out, in a real browser: the page learns that nobody is signed in without a
single error in the browser's console (it used to ask GET /api/me, whose 401 Chromium logs as "Failed to
load resource"), and signing in and out stays as quiet."""

from __future__ import annotations

from typing import Any

from browser import Tab, expect, sign_in


def _console_errors(tab: Tab) -> tuple[list[str], list[tuple[int, str]]]:
    errors: list[str] = []
    failed: list[tuple[int, str]] = []
    tab.page.on("console", lambda m: errors.append(f"{m.type}: {m.text}") if m.type in ("error", "warning")
                else None)
    tab.page.on("response", lambda r: failed.append((r.status, r.url)) if r.status >= 400 else None)
    return errors, failed


def test_the_sign_in_page_logs_no_console_error(wide: Tab) -> None:
    errors, failed = _console_errors(wide)
    page = wide.page
    with page.expect_response(lambda r: r.url.endswith("/api/session") and r.request.method == "GET") as asked:
        page.goto(wide.server.url + "/")
    assert asked.value.status == 200 and asked.value.json() == {"signed_in": False, "name": None}
    expect(page.get_by_label("Access token")).to_be_focused()
    page.wait_for_load_state("networkidle")
    assert failed == [], failed
    assert errors == [], errors

    sign_in(wide)
    expect(page.locator("#account-name")).to_have_text("ui-tester")
    page.reload()  # signed in: the same question, answered with the name
    expect(page.get_by_role("heading", name="Your projects")).to_be_visible()
    expect(page.locator("#account-name")).to_have_text("ui-tester")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Access token")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert failed == [], failed
    assert errors == [], errors


def test_a_session_that_ended_shows_the_sign_in_page_quietly(browser: Any, wide: Tab) -> None:
    """A browser whose cookie names a session the server no longer has (signed out elsewhere)."""
    sign_in(wide)
    cookie = next(c for c in wide.page.context.cookies() if c["name"] == "ml_session")
    wide.api("DELETE", "/api/session")  # ends it on the server; this page still holds the cookie value
    wide.page.context.add_cookies([cookie])
    errors, failed = _console_errors(wide)
    wide.page.goto(wide.server.url + "/")
    expect(wide.page.get_by_label("Access token")).to_be_focused()
    wide.page.wait_for_load_state("networkidle")
    assert failed == [] and errors == [], (failed, errors)
