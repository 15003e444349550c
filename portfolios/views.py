"""Pages for portfolios, watchlists, alerts and notifications: parse, call, render.

Every object is looked up with `owner=request.user`, so another user's id is a 404.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_POST

from markets import quotes
from portfolios import csv_io, selectors, services
from portfolios.forms import (
    AlertForm,
    ImportForm,
    PortfolioForm,
    TransactionForm,
    WatchlistForm,
    WatchlistItemEditForm,
    WatchlistItemForm,
    apply_errors,
)
from portfolios.models import Portfolio, PriceAlert, Transaction, Watchlist, WatchlistItem
from portfolios.queries import (
    AlertPrefillQuery,
    PerformanceWindowQuery,
    RealizedQuery,
    TransactionNewQuery,
)
from qunex.params import IdListParam, query_form
from qunex.text import strip_control

FEED_URL = reverse_lazy("market-data")
IMPORT_SESSION_KEY = "portfolios:import:{pk}"


def _feed() -> dict:
    """The one quote feed's settings and the market's state, for the page's [data-feed]."""
    return {
        "url": FEED_URL,
        "poll_seconds": quotes.poll_seconds(),
        "closed_poll_seconds": quotes.closed_poll_seconds(),
        "max_symbols": quotes.MAX_SYMBOLS,
        "market_open": quotes.market_status()["is_open"],
    }


def _portfolio(request: HttpRequest, pk: int) -> Portfolio:
    return get_object_or_404(
        Portfolio.objects.select_related("benchmark"), pk=pk, owner=request.user
    )


def _width(weight: float) -> str:
    return f"w-{max(0, min(100, round(weight * 100)))}"


def _bars(weights: dict[str, float]) -> list[dict]:
    return [{"label": k, "pct": v * 100, "width": _width(v)} for k, v in weights.items()]


# --- portfolios ------------------------------------------------------------------------------


@login_required
def portfolio_list(request: HttpRequest) -> HttpResponse:
    summaries = selectors.portfolio_summaries(user=request.user)
    return render(request, "portfolios/portfolio_list.html", {"summaries": summaries})


@login_required
def portfolio_create(request: HttpRequest) -> HttpResponse:
    form = PortfolioForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            portfolio = services.portfolio_create(owner=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request, f"Portfolio {portfolio.name} created. Add its first transaction."
            )
            return redirect("portfolios:portfolio_detail", pk=portfolio.pk)
    return render(
        request,
        "portfolios/portfolio_form.html",
        {"form": form, "tickers": selectors.ticker_options(), "portfolio": None},
    )


@login_required
def portfolio_edit(request: HttpRequest, pk: int) -> HttpResponse:
    portfolio = _portfolio(request, pk)
    initial = {
        "name": portfolio.name,
        "benchmark": portfolio.benchmark.symbol if portfolio.benchmark_id else "",
        "track_cash": portfolio.track_cash,
    }
    form = PortfolioForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.portfolio_update(portfolio=portfolio, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "Portfolio saved.")
            return redirect("portfolios:portfolio_detail", pk=portfolio.pk)
    return render(
        request,
        "portfolios/portfolio_form.html",
        {"form": form, "tickers": selectors.ticker_options(), "portfolio": portfolio},
    )


@login_required
def portfolio_delete(request: HttpRequest, pk: int) -> HttpResponse:
    portfolio = _portfolio(request, pk)
    if request.method == "POST":
        services.portfolio_delete(portfolio=portfolio)
        messages.success(request, f"Portfolio {portfolio.name} and its transactions deleted.")
        return redirect("portfolios:portfolio_list")
    return render(
        request,
        "portfolios/confirm_delete.html",
        {"object": portfolio, "kind": "portfolio", "cancel": portfolio.get_absolute_url()},
    )


def _range_links(performance: selectors.Performance) -> list[dict]:
    """The period buttons: each a link to the same `?start=` window the API takes."""
    links = []
    for period, start in performance.period_starts.items():
        query = f"?start={start}" if start and period != "Max" else "?"
        links.append(
            {
                "period": period,
                "label": selectors.PERIOD_LABELS[period],
                "href": query,
                "current": period == performance.selected_period,
            }
        )
    return links


@login_required
@query_form(PerformanceWindowQuery, announce=False)  # the page names window errors itself
def portfolio_detail(request: HttpRequest, pk: int, query: dict) -> HttpResponse:
    """Holdings and performance; `?start=&end=` (ISO dates) choose the performance window."""
    portfolio = _portfolio(request, pk)
    window = {} if query.problems else {k: query[k] for k in ("start", "end") if query[k]}
    summary = selectors.portfolio_summary(portfolio=portfolio)
    performance = selectors.portfolio_performance(
        portfolio=portfolio, ledger=summary.ledger, **window
    )
    context = {
        "portfolio": portfolio,
        "summary": summary,
        "performance": performance,
        "window_errors": query.problems,
        "window_start": strip_control(request.GET.get("start", "")),
        "window_end": strip_control(request.GET.get("end", "")),
        "ranges": _range_links(performance),
        "labels": selectors.PERIOD_LABELS,
        "by_holding": _bars(summary.allocation_by_holding()),
        "by_sector": _bars(summary.allocation_by_sector()),
        "recent": list(reversed(summary.transactions[-8:])),
        "feed": _feed(),
        "chart": performance.chart_data(),
    }
    status = 400 if query.problems else 200
    return render(request, "portfolios/portfolio_detail.html", context, status=status)


@login_required
@query_form(RealizedQuery)
def realized_gains(request: HttpRequest, pk: int, query: dict) -> HttpResponse:
    portfolio = _portfolio(request, pk)
    summary = selectors.portfolio_summary(portfolio=portfolio)
    years = selectors.realized_by_year(summary.ledger)
    year = str(query["year"] or "")
    shown = [y for y in years if not year or str(y.year) == year]
    return render(
        request,
        "portfolios/realized.html",
        {"portfolio": portfolio, "summary": summary, "years": years, "shown": shown, "year": year},
    )


# --- transactions ----------------------------------------------------------------------------


@login_required
def transaction_list(request: HttpRequest, pk: int) -> HttpResponse:
    portfolio = _portfolio(request, pk)
    rows = list(portfolio.transactions.select_related("ticker").order_by("-trade_date", "-id"))
    return render(
        request, "portfolios/transaction_list.html", {"portfolio": portfolio, "rows": rows}
    )


def _transaction_initial(row: Transaction) -> dict:
    def blank_zero(value: Decimal) -> Decimal | None:
        return value.normalize() if value else None

    return {
        "type": row.type,
        "trade_date": row.trade_date,
        "symbol": row.symbol or "",
        "quantity": blank_zero(row.quantity),
        "price": blank_zero(row.price),
        "fees": blank_zero(row.fees),
        "amount": blank_zero(row.amount),
        "notes": row.notes,
    }


def _service_args(data: dict) -> dict:
    zero = Decimal(0)
    return {
        **data,
        **{
            k: data.get(k) if data.get(k) is not None else zero
            for k in ("quantity", "price", "fees", "amount")
        },
    }


@login_required
@query_form(TransactionNewQuery)
def transaction_create(request: HttpRequest, pk: int, query: dict) -> HttpResponse:
    portfolio = _portfolio(request, pk)
    initial = {"trade_date": timezone.localdate(), "type": query["type"]}
    if symbol := query["symbol"]:
        initial["symbol"] = symbol.upper()
    form = TransactionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            row = services.transaction_create(
                portfolio=portfolio, **_service_args(form.cleaned_data)
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Recorded: {row}.")
            if "add_another" in request.POST:
                return redirect("portfolios:transaction_create", pk=portfolio.pk)
            return redirect("portfolios:portfolio_detail", pk=portfolio.pk)
    return render(
        request,
        "portfolios/transaction_form.html",
        {"form": form, "portfolio": portfolio, "row": None, "tickers": selectors.ticker_options()},
    )


def _transaction(request: HttpRequest, pk: int, tid: int) -> Transaction:
    return get_object_or_404(
        Transaction.objects.select_related("ticker", "portfolio"),
        pk=tid,
        portfolio__pk=pk,  # not portfolio_id: a foreign key's lookup sends an id past bigint to the DB
        portfolio__owner=request.user,
    )


@login_required
def transaction_edit(request: HttpRequest, pk: int, tid: int) -> HttpResponse:
    row = _transaction(request, pk, tid)
    form = TransactionForm(request.POST or None, initial=_transaction_initial(row))
    if request.method == "POST" and form.is_valid():
        try:
            services.transaction_update(transaction_=row, **_service_args(form.cleaned_data))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Saved: {row}.")
            return redirect("portfolios:transaction_list", pk=pk)
    return render(
        request,
        "portfolios/transaction_form.html",
        {
            "form": form,
            "portfolio": row.portfolio,
            "row": row,
            "tickers": selectors.ticker_options(),
        },
    )


@login_required
def transaction_delete(request: HttpRequest, pk: int, tid: int) -> HttpResponse:
    row = _transaction(request, pk, tid)
    error = ""
    if request.method == "POST":
        try:
            services.transaction_delete(transaction_=row)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, f"Deleted: {row}.")
            return redirect("portfolios:transaction_list", pk=pk)
    return render(
        request,
        "portfolios/confirm_delete.html",
        {
            "object": row,
            "kind": "transaction",
            "error": error,
            "cancel": f"/portfolios/{pk}/transactions/",
        },
        status=400 if error else 200,
    )


# --- CSV -------------------------------------------------------------------------------------


@login_required
def portfolio_export(request: HttpRequest, pk: int) -> HttpResponse:
    portfolio = _portfolio(request, pk)
    response = HttpResponse(
        csv_io.export_csv(portfolio=portfolio), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localdate().isoformat()
    slug = (
        "".join(c if c.isalnum() else "-" for c in portfolio.name).strip("-").lower() or "portfolio"
    )
    response["Content-Disposition"] = f'attachment; filename="{slug}-{stamp}.csv"'
    return response


@login_required
def portfolio_import(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the upload form. POST: parse and check the file, keep it in the session, preview."""
    portfolio = _portfolio(request, pk)
    key = IMPORT_SESSION_KEY.format(pk=portfolio.pk)
    form = ImportForm(request.POST or None, request.FILES or None)
    context = {"portfolio": portfolio, "form": form, "columns": csv_io.ALIASES}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > csv_io.MAX_BYTES:
            form.add_error("file", "The file is larger than 2 MB; split it.")
            return render(request, "portfolios/import.html", context)
        parsed = csv_io.parse_csv(upload.read())
        errors = list(parsed.errors)
        if not errors:
            errors = csv_io.check_rows(portfolio=portfolio, rows=parsed.rows).errors
        token = uuid.uuid4().hex
        if not errors:
            request.session[key] = {"token": token, "rows": [r.to_dict() for r in parsed.rows]}
        else:
            request.session.pop(key, None)
        context.update(
            preview=parsed.rows,
            errors=errors,
            error_rows={e.row for e in errors},
            ignored=parsed.ignored_columns,
            token=token,
            filename=upload.name,
        )
    return render(request, "portfolios/import.html", context)


@login_required
@require_POST
def portfolio_import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    portfolio = _portfolio(request, pk)
    key = IMPORT_SESSION_KEY.format(pk=portfolio.pk)
    stored = request.session.get(key)
    if not stored or stored.get("token") != request.POST.get("token"):
        messages.error(request, "That preview has expired; upload the file again.")
        return redirect("portfolios:portfolio_import", pk=portfolio.pk)
    rows = [csv_io.ImportRow.from_dict(r) for r in stored["rows"]]
    try:
        created = services.transactions_import(portfolio=portfolio, rows=rows)
    except csv_io.ImportRejected as exc:
        request.session.pop(key, None)
        return render(
            request,
            "portfolios/import.html",
            {
                "portfolio": portfolio,
                "form": ImportForm(),
                "columns": csv_io.ALIASES,
                "preview": rows,
                "errors": exc.errors,
                "error_rows": {e.row for e in exc.errors},
            },
            status=400,
        )
    request.session.pop(key, None)
    messages.success(request, f"Imported {len(created)} transactions.")
    return redirect("portfolios:portfolio_detail", pk=portfolio.pk)


# --- watchlists ------------------------------------------------------------------------------


def _watchlist_page(request: HttpRequest, watchlist: Watchlist | None, **extra) -> HttpResponse:
    lists = list(selectors.watchlists_for(user=request.user))
    rows = selectors.watchlist_rows(watchlist=watchlist) if watchlist else []
    context = {
        "lists": lists,
        "watchlist": watchlist,
        "rows": rows,
        "create_form": extra.pop("create_form", None) or WatchlistForm(),
        "item_form": extra.pop("item_form", None) or WatchlistItemForm(),
        "rename_form": extra.pop("rename_form", None)
        or (WatchlistForm(initial={"name": watchlist.name}) if watchlist else None),
        "tickers": selectors.ticker_options(),
        "feed": _feed(),
        "symbols": ",".join(r.info.symbol for r in rows),
        **extra,
    }
    status = (
        400
        if any(f.errors for f in (context["create_form"], context["item_form"]) if f.is_bound)
        else 200
    )
    return render(request, "portfolios/watchlist.html", context, status=status)


@login_required
def watchlist_list(request: HttpRequest) -> HttpResponse:
    first = Watchlist.objects.filter(owner=request.user).order_by("name", "id").first()
    return _watchlist_page(request, first)


@login_required
def watchlist_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _watchlist_page(request, get_object_or_404(Watchlist, pk=pk, owner=request.user))


@login_required
@require_POST
def watchlist_create(request: HttpRequest) -> HttpResponse:
    form = WatchlistForm(request.POST)
    if form.is_valid():
        try:
            watchlist = services.watchlist_create(
                owner=request.user, name=form.cleaned_data["name"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Watchlist {watchlist.name} created. Add tickers to it.")
            return redirect(watchlist)
    first = Watchlist.objects.filter(owner=request.user).order_by("name", "id").first()
    return _watchlist_page(request, first, create_form=form)


@login_required
@require_POST
def watchlist_rename(request: HttpRequest, pk: int) -> HttpResponse:
    watchlist = get_object_or_404(Watchlist, pk=pk, owner=request.user)
    form = WatchlistForm(request.POST)
    if form.is_valid():
        try:
            services.watchlist_update(watchlist=watchlist, name=form.cleaned_data["name"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "Watchlist renamed.")
            return redirect(watchlist)
    watchlist.refresh_from_db()
    return _watchlist_page(request, watchlist, rename_form=form)


@login_required
def watchlist_delete(request: HttpRequest, pk: int) -> HttpResponse:
    watchlist = get_object_or_404(Watchlist, pk=pk, owner=request.user)
    if request.method == "POST":
        services.watchlist_delete(watchlist=watchlist)
        messages.success(request, f"Watchlist {watchlist.name} deleted.")
        return redirect("portfolios:watchlist_list")
    return render(
        request,
        "portfolios/confirm_delete.html",
        {"object": watchlist, "kind": "watchlist", "cancel": watchlist.get_absolute_url()},
    )


@login_required
@require_POST
def watchlist_item_add(request: HttpRequest, pk: int) -> HttpResponse:
    watchlist = get_object_or_404(Watchlist, pk=pk, owner=request.user)
    form = WatchlistItemForm(request.POST)
    if form.is_valid():
        try:
            item = services.watchlist_item_add(watchlist=watchlist, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"{item.ticker.symbol} added to {watchlist.name}.")
            return redirect(watchlist)
    return _watchlist_page(request, watchlist, item_form=form)


def _item(request: HttpRequest, pk: int, iid: int) -> WatchlistItem:
    return get_object_or_404(
        WatchlistItem.objects.select_related("watchlist", "ticker"),
        pk=iid,
        watchlist__pk=pk,  # not watchlist_id: a foreign key's lookup sends an id past bigint to the DB
        watchlist__owner=request.user,
    )


@login_required
def watchlist_item_edit(request: HttpRequest, pk: int, iid: int) -> HttpResponse:
    item = _item(request, pk, iid)
    initial = {
        "note": item.note,
        "target_above": item.target_above,
        "target_below": item.target_below,
    }
    form = WatchlistItemEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.watchlist_item_update(item=item, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"{item.ticker.symbol} saved.")
            return redirect(item.watchlist)
    return render(request, "portfolios/watchlist_item_form.html", {"form": form, "item": item})


@login_required
@require_POST
def watchlist_item_remove(request: HttpRequest, pk: int, iid: int) -> HttpResponse:
    item = _item(request, pk, iid)
    services.watchlist_item_remove(item=item)
    messages.success(request, f"{item.ticker.symbol} removed from {item.watchlist.name}.")
    return redirect(item.watchlist)


# --- alerts and notifications ----------------------------------------------------------------


def _alert_initial(query: dict) -> dict:
    """Pre-fill from a watchlist row's link: `?symbol=&direction=&threshold=` (junk ignored)."""
    initial = {"symbol": query["symbol"].upper(), "direction": query["direction"]}
    if query["threshold"] is not None and query["threshold"] > 0:
        initial["threshold"] = query["threshold"]
    return initial


@login_required
@query_form(AlertPrefillQuery)
def alert_list(request: HttpRequest, query: dict) -> HttpResponse:
    form = AlertForm(request.POST or None, initial=_alert_initial(query))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                alert = services.alert_create(owner=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"Alert set: you will be told when {alert.describe()}.")
                return redirect("portfolios:alert_list")
        status = 400
    alerts = list(selectors.alerts_for(user=request.user))
    firings = list(selectors.alert_firings_for(user=request.user))
    return render(
        request,
        "portfolios/alerts.html",
        {"form": form, "alerts": alerts, "firings": firings, "tickers": selectors.ticker_options()},
        status=status,
    )


@login_required
@require_POST
def alert_rearm(request: HttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(
        PriceAlert.objects.select_related("ticker"), pk=pk, owner=request.user
    )
    services.alert_rearm(alert=alert)
    messages.success(request, f"Re-armed: you will be told when {alert.describe()}.")
    return redirect("portfolios:alert_list")


@login_required
@require_POST
def alert_delete(request: HttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(
        PriceAlert.objects.select_related("ticker"), pk=pk, owner=request.user
    )
    services.alert_delete(alert=alert)
    messages.success(request, f"Alert deleted: {alert.describe()}.")
    return redirect("portfolios:alert_list")


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    rows = list(selectors.notifications_for(user=request.user)[:100])
    return render(request, "portfolios/notifications.html", {"rows": rows})


@login_required
@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    ids = request.POST.getlist("id")  # "²" passes isdigit() and fails int(): IdListParam
    services.notifications_mark_read(
        user=request.user, ids=IdListParam().clean(ids) if ids else None
    )
    return redirect("portfolios:notification_list")
