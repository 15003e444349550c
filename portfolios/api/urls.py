from rest_framework.routers import SimpleRouter

from portfolios.api import views

router = SimpleRouter()
router.register("portfolios", views.PortfolioViewSet, basename="api-portfolio")
router.register("transactions", views.TransactionViewSet, basename="api-transaction")
router.register("watchlists", views.WatchlistViewSet, basename="api-watchlist")
router.register("watchlist-items", views.WatchlistItemViewSet, basename="api-watchlist-item")
router.register("alerts", views.PriceAlertViewSet, basename="api-alert")
router.register("notifications", views.NotificationViewSet, basename="api-notification")

urlpatterns = router.urls
