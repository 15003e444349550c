"""Qunex's URLs plus `/bench/trivial`: the cheapest Django view, the benchmark's yardstick.

It goes through the same middleware as every page (sessions, auth, CSP, time zone), so the
ratio feed/trivial measures what the feed itself costs.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from qunex.urls import urlpatterns as qunex_urlpatterns


def trivial(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/trivial", trivial), *qunex_urlpatterns]
