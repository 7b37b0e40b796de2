"""The wallboard in a real headless Chromium: a call started on the emulated phones appears on the
page within a second, moves from waiting to talking, and disappears when it ends; the queue's
answered and abandoned counters follow; queues show their names."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

Phones = Any  # the conftest's fixture


@pytest.fixture
def page(browser: Any, wallboard: str) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    page.goto(wallboard)
    expect(page.locator("#status")).to_have_text("live", timeout=10_000)
    yield page
    context.close()


def test_a_queue_call_appears_within_a_second_is_answered_and_disappears(page: Page, phones: Phones) -> None:
    queue = page.locator('#queues tr[data-queue="0336"]')
    expect(queue.locator(".name")).to_have_text("Sales Queue")  # the PBX's name, not only the number
    expect(queue.locator(".waiting")).to_have_text("0")
    answered = int(queue.locator(".answered").inner_text())  # today's, from the report at start-up
    started = time.monotonic()
    call = phones.post("calls", {"from": "+442079460123", "to": "0336"})
    row = page.locator(f'#calls tr[data-callid="{call["callid"]}"]')
    expect(row).to_be_visible(timeout=1_000)
    assert time.monotonic() - started < 1.0
    expect(row.locator(".caller")).to_have_text("+442079460123")
    expect(row.locator(".callee")).to_have_text("0336 Sales Queue")
    expect(queue.locator(".waiting")).to_have_text("1", timeout=1_000)
    expect(page.locator("#waiting")).to_have_text("1")

    phones.post(f"calls/{call['callid']}/answer")
    expect(row).to_have_attribute("data-status", "Talking", timeout=1_000)
    expect(queue.locator(".waiting")).to_have_text("0", timeout=1_000)
    expect(queue.locator(".talking")).to_have_text("1")
    expect(queue.locator(".answered")).to_have_text(str(answered + 1))
    agent = call["participants"][-1]["dn"]
    expect(page.locator(f'.ext[data-dn="{agent}"]')).to_have_attribute("data-status", "talking")

    phones.post(f"calls/{call['callid']}/end")
    expect(row).to_have_count(0, timeout=1_000)
    expect(queue.locator(".talking")).to_have_text("0")
    expect(page.locator(f'.ext[data-dn="{agent}"]')).to_have_attribute("data-status", "idle")


def test_a_caller_who_gives_up_in_the_queue_counts_as_abandoned(page: Page, phones: Phones) -> None:
    queue = page.locator('#queues tr[data-queue="0337"]')
    before = int(queue.locator(".abandoned").inner_text())
    call = phones.post("calls", {"from": "+385141234567", "to": "0337"})
    expect(queue.locator(".waiting")).to_have_text("1", timeout=1_000)
    expect(queue.locator(".longest")).to_have_text("00:01", timeout=3_000)  # the wait ticks on the page
    phones.post(f"calls/{call['callid']}/end")
    expect(queue.locator(".abandoned")).to_have_text(str(before + 1), timeout=1_000)
    expect(queue.locator(".waiting")).to_have_text("0")
    expect(page.locator(f'#calls tr[data-callid="{call["callid"]}"]')).to_have_count(0)
