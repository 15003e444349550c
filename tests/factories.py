"""factory_boy factories shared by every app's tests."""

from __future__ import annotations

import datetime

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.utils import timezone

PASSWORD = "correct horse battery staple 42"


class UserFactory(factory.django.DjangoModelFactory):
    """An active user with a verified primary email who can log in with PASSWORD."""

    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"trader{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified_email(self, create, extracted, **kwargs):
        if create:
            self.save()
            EmailAddress.objects.create(
                user=self, email=self.email, primary=True, verified=extracted is not False
            )


class TickerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "markets.Ticker"
        django_get_or_create = ("symbol",)

    symbol = factory.Sequence(lambda n: f"T{n:03d}")
    name = factory.LazyAttribute(lambda t: f"{t.symbol} Corporation")
    exchange = "XNAS"
    sector = "Technology"
    industry = "Software"
    market_cap = 1_000_000_000


class DailyBarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "markets.DailyBar"

    ticker = factory.SubFactory(TickerFactory)
    date = factory.Sequence(lambda n: datetime.date(2024, 1, 2) + datetime.timedelta(days=n))
    open = factory.LazyAttribute(lambda b: b.close)
    high = factory.LazyAttribute(lambda b: b.close)
    low = factory.LazyAttribute(lambda b: b.close)
    close = 100
    adj_close = None
    volume = 1_000_000
    source = "test"


class QuoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "markets.Quote"

    ticker = factory.SubFactory(TickerFactory)
    price = 100
    change = 1
    change_pct = 1
    volume = 1_000_000
    as_of = factory.LazyFunction(timezone.now)
    source = "test"
