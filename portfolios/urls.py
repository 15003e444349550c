from django.urls import path

from portfolios import views

app_name = "portfolios"

urlpatterns = [
    path("portfolios/", views.portfolio_list, name="portfolio_list"),
    path("portfolios/new/", views.portfolio_create, name="portfolio_create"),
    path("portfolios/<int:pk>/", views.portfolio_detail, name="portfolio_detail"),
    path("portfolios/<int:pk>/edit/", views.portfolio_edit, name="portfolio_edit"),
    path("portfolios/<int:pk>/delete/", views.portfolio_delete, name="portfolio_delete"),
    path("portfolios/<int:pk>/realized/", views.realized_gains, name="realized_gains"),
    path("portfolios/<int:pk>/transactions/", views.transaction_list, name="transaction_list"),
    path(
        "portfolios/<int:pk>/transactions/new/",
        views.transaction_create,
        name="transaction_create",
    ),
    path(
        "portfolios/<int:pk>/transactions/<int:tid>/edit/",
        views.transaction_edit,
        name="transaction_edit",
    ),
    path(
        "portfolios/<int:pk>/transactions/<int:tid>/delete/",
        views.transaction_delete,
        name="transaction_delete",
    ),
    path("portfolios/<int:pk>/import/", views.portfolio_import, name="portfolio_import"),
    path(
        "portfolios/<int:pk>/import/confirm/",
        views.portfolio_import_confirm,
        name="portfolio_import_confirm",
    ),
    path("portfolios/<int:pk>/export.csv", views.portfolio_export, name="portfolio_export"),
    path("watchlists/", views.watchlist_list, name="watchlist_list"),
    path("watchlists/new/", views.watchlist_create, name="watchlist_create"),
    path("watchlists/<int:pk>/", views.watchlist_detail, name="watchlist_detail"),
    path("watchlists/<int:pk>/rename/", views.watchlist_rename, name="watchlist_rename"),
    path("watchlists/<int:pk>/delete/", views.watchlist_delete, name="watchlist_delete"),
    path("watchlists/<int:pk>/items/", views.watchlist_item_add, name="watchlist_item_add"),
    path(
        "watchlists/<int:pk>/items/<int:iid>/edit/",
        views.watchlist_item_edit,
        name="watchlist_item_edit",
    ),
    path(
        "watchlists/<int:pk>/items/<int:iid>/remove/",
        views.watchlist_item_remove,
        name="watchlist_item_remove",
    ),
    path("alerts/", views.alert_list, name="alert_list"),
    path("alerts/<int:pk>/rearm/", views.alert_rearm, name="alert_rearm"),
    path("alerts/<int:pk>/delete/", views.alert_delete, name="alert_delete"),
    path("notifications/", views.notification_list, name="notification_list"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
]
