"""Alpha Vantage's 25 calls a day shared by purpose: each purpose keeps its reserve, the
unreserved rest goes to whoever asks first, and a bad setting names itself."""

from __future__ import annotations

import pytest

from markets.budget import VendorBudget, budget_for, budget_purpose, vendor_reserves


def _budget(reserves: dict[str, int], per_day: int = 25) -> VendorBudget:
    return VendorBudget("alphavantage", key="k", per_day=per_day, reserves=reserves)


def _take(budget: VendorBudget, purpose: str, n: int) -> int:
    return sum(budget.acquire(purpose=purpose) for _ in range(n))


def test_the_quote_step_cannot_spend_the_feeds_reserve() -> None:
    budget = _budget({"feed": 10, "bars": 8, "quotes": 2})
    # 25 - 10 - 8 = 7 for the quote step: its own 2 and the 5 nobody reserved
    assert _take(budget, "quotes", 25) == 7
    assert budget.day_left("quotes") == 0
    assert budget.day_left("feed") == 10 and budget.day_left("bars") == 8
    assert _take(budget, "feed", 25) == 10
    assert _take(budget, "bars", 25) == 8
    assert budget.remaining()["day"] == 0  # no purpose: nothing left


def test_unreserved_calls_go_to_whoever_asks_first_and_reserves_stay() -> None:
    budget = _budget({"feed": 10, "bars": 8, "quotes": 2})
    assert _take(budget, "feed", 30) == 15  # its 10 + the 5 unreserved
    assert _take(budget, "quotes", 5) == 2
    assert _take(budget, "", 5) == 0  # an untagged caller has no reserve and no pool left
    assert _take(budget, "bars", 9) == 8


def test_budget_purpose_tags_every_call_under_it() -> None:
    budget = _budget({"feed": 3}, per_day=5)
    with budget_purpose("quotes"):
        assert _take(budget, None, 5) == 2  # type: ignore[arg-type]
        assert budget.remaining()["day"] == 0
    with budget_purpose("feed"):
        assert budget.remaining()["day"] == 3
        assert _take(budget, None, 5) == 3  # type: ignore[arg-type]


def test_reserves_come_from_settings_and_a_bad_entry_names_the_setting(settings) -> None:
    settings.ALPHA_VANTAGE_CALLS_PER_DAY = 25
    settings.ALPHA_VANTAGE_DAY_RESERVES = ["feed:10", " bars:8 ", ""]
    assert vendor_reserves("alphavantage") == {"feed": 10, "bars": 8}
    assert budget_for("alphavantage").reserves == {"feed": 10, "bars": 8}
    settings.ALPHA_VANTAGE_DAY_RESERVES = "feed:ten"
    with pytest.raises(ValueError, match="ALPHA_VANTAGE_DAY_RESERVES"):
        vendor_reserves("alphavantage")


def test_a_race_for_the_last_free_call_never_eats_a_reserve() -> None:
    """Two processes both saw one unreserved call left; the second to count gives it back."""
    first = _budget({"feed": 2}, per_day=3)
    second = VendorBudget("alphavantage", key="k", per_day=3, reserves={"feed": 2})
    assert first.day_left("quotes") == second.day_left("quotes") == 1
    assert first.acquire(purpose="quotes")
    # `second` checked before `first` counted: it counts, sees the reserve eaten, gives back
    assert not second._take_reserved("quotes", second._day_incr())
    assert first.day_left("feed") == 2
    assert _take(first, "feed", 5) == 2
