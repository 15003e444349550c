"""Price alerts fire exactly once (email + in-app notification + firing row), even when two
runs race, and fire again only after a re-arm."""

from __future__ import annotations

import threading
from decimal import Decimal as D

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection

from markets.models import Quote
from portfolios import services
from portfolios.ledger import TxnType
from portfolios.models import AlertFiring, Notification, PriceAlert, Transaction
from qunex.models import JobRun
from tests.factories import DailyBarFactory, QuoteFactory, TickerFactory, UserFactory
from tests.portfolios.factories import PriceAlertFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def aapl(db):
    ticker = TickerFactory(symbol="AAPL")
    QuoteFactory(ticker=ticker, price=D("151.25"))
    return ticker


def run(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("check_alerts", *args, stdout=out)
    return out.getvalue().strip().splitlines()[-1]


def test_transaction_types_match_the_ledger():
    assert Transaction.Type.values == [t.value for t in TxnType]


def test_alert_fires_once_by_email_and_notification(user, aapl):
    above = PriceAlertFactory(owner=user, ticker=aapl, direction="above", threshold=D("150"))
    below = PriceAlertFactory(owner=user, ticker=aapl, direction="below", threshold=D("140"))
    summary = run()
    assert summary.startswith("check_alerts: succeeded in ")
    assert "checked 2" in summary and "fired 1" in summary and "not_met 1" in summary
    above.refresh_from_db()
    below.refresh_from_db()
    assert (above.armed, below.armed) == (False, True)
    assert above.fired_at is not None
    (firing,) = AlertFiring.objects.all()
    assert (firing.alert, firing.price) == (above, D("151.25"))
    (note,) = Notification.objects.filter(user=user)
    assert (
        note.text == "Price alert: AAPL rises to or above 150.00 (last 151.25)."
        and note.url == "/alerts/"
    )
    (email,) = mail.outbox
    assert email.to == [user.email] and "AAPL rises to or above 150" in email.subject
    assert "re-arm it at" in email.body
    # a second run changes nothing: the alert is no longer armed
    summary = run()
    assert "fired" not in summary and "checked 1" in summary
    assert AlertFiring.objects.count() == 1 and len(mail.outbox) == 1
    assert JobRun.objects.filter(command="check_alerts").count() == 2


def test_rearmed_alert_fires_again(user, aapl):
    alert = PriceAlertFactory(owner=user, ticker=aapl, direction="above", threshold=D("150"))
    run()
    services.alert_rearm(alert=alert)
    Quote.objects.filter(ticker=aapl).update(price=D("149"))
    assert "not_met 1" in run()
    Quote.objects.filter(ticker=aapl).update(price=D("155"))
    assert "fired 1" in run()
    assert list(AlertFiring.objects.values_list("price", flat=True)) == [D("155"), D("151.25")]
    assert Notification.objects.count() == 2


def test_two_runs_holding_the_same_armed_alert_fire_it_once(user, aapl):
    """Both runs loaded the alert while it was armed; the conditional UPDATE lets one win."""
    alert = PriceAlertFactory(owner=user, ticker=aapl, direction="above", threshold=D("150"))
    first = PriceAlert.objects.select_related("ticker", "owner").get(pk=alert.pk)
    second = PriceAlert.objects.select_related("ticker", "owner").get(pk=alert.pk)
    assert services.alert_check(alert=first, price=D("151")) == "fired"
    assert services.alert_check(alert=second, price=D("151")) == "already_fired"
    assert (
        AlertFiring.objects.count() == 1
        and Notification.objects.count() == 1
        and len(mail.outbox) == 1
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locking")
def test_concurrent_runs_on_postgres_fire_once(aapl):
    user = UserFactory()
    alert = PriceAlertFactory(owner=user, ticker=aapl, direction="above", threshold=D("150"))
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def worker():
        loaded = PriceAlert.objects.select_related("ticker", "owner").get(pk=alert.pk)
        barrier.wait()
        outcomes.append(services.alert_check(alert=loaded, price=D("151")))
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["already_fired"] * 3 + ["fired"]
    assert AlertFiring.objects.count() == 1


def test_latest_close_is_used_without_a_quote(user):
    ticker = TickerFactory(symbol="XOM")
    DailyBarFactory(ticker=ticker, close=D("90"))
    PriceAlertFactory(owner=user, ticker=ticker, direction="below", threshold=D("95"))
    assert "fired 1" in run()


def test_no_price_is_counted_not_fired(user):
    PriceAlertFactory(owner=user, ticker=TickerFactory(symbol="NEW"))
    summary = run()
    assert "no_price 1" in summary and not AlertFiring.objects.exists()


def test_dry_run_changes_nothing(user, aapl):
    PriceAlertFactory(owner=user, ticker=aapl, direction="above", threshold=D("150"))
    summary = run("--dry-run")
    assert "would_fire 1" in summary and "dry run: nothing changed" in summary
    assert PriceAlert.objects.get().armed and not mail.outbox and not Notification.objects.exists()


def test_symbol_filter(user, aapl):
    PriceAlertFactory(owner=user, ticker=aapl, direction="above", threshold=D("150"))
    assert "checked 0" in run("--symbols", "MSFT")
    assert "fired 1" in run("--symbols", "aapl")


def test_email_failure_keeps_the_firing_and_notification(user, aapl, settings):
    settings.EMAIL_BACKEND = "tests.portfolios.test_alerts.BrokenBackend"
    PriceAlertFactory(owner=user, ticker=aapl, direction="above", threshold=D("150"))
    summary = run()
    assert "partial" in summary and "failed 1" in summary and "fired 1" in summary
    assert AlertFiring.objects.count() == 1 and Notification.objects.count() == 1
    assert not PriceAlert.objects.get().armed


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise OSError("SMTP down")
