"""Economic calendar API: events filtered by country, importance, dates or a named range."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError

from insights.calendar import selectors
from insights.calendar.models import EconomicEvent
from qunex import params
from qunex.filters import StrictQuerySerializer


class EventQuerySerializer(StrictQuerySerializer):
    country = serializers.RegexField(r"^[A-Za-z]{2}$", required=False, max_length=2)
    importance = serializers.ChoiceField(
        choices=["low", "medium", "high"], required=False, help_text="Minimum importance."
    )
    range = serializers.ChoiceField(choices=sorted(selectors.RANGES), required=False)
    date_from = params.ApiDate(help_text="First day (UTC), inclusive.")
    date_to = params.ApiDate(help_text="Last day (UTC), inclusive.")

    def validate(self, attrs):
        attrs = super().validate(attrs)
        first, last = attrs.get("date_from"), attrs.get("date_to")
        if first and last and first > last:
            raise ValidationError({"date_to": ["Must be on or after date_from."]})
        if attrs.get("range") and (first or last):
            raise ValidationError({"range": ["Give either range or date_from/date_to."]})
        return attrs


class EventSerializer(serializers.ModelSerializer):
    importance = serializers.SerializerMethodField()
    surprise = serializers.DecimalField(
        max_digits=21, decimal_places=6, read_only=True, allow_null=True
    )

    class Meta:
        model = EconomicEvent
        fields = [
            "id",
            "name",
            "country",
            "scheduled_at",
            "all_day",
            "importance",
            "period",
            "actual",
            "forecast",
            "previous",
            "surprise",
            "unit",
            "source",
            "url",
            "updated_at",
        ]

    def get_importance(self, obj: EconomicEvent) -> str:
        return EconomicEvent.Importance(obj.importance).label.lower()


IMPORTANCE = {"low": 1, "medium": 2, "high": 3}


@extend_schema(
    parameters=[EventQuerySerializer],
    responses={
        200: EventSerializer(many=True),
        400: OpenApiResponse(description="A filter value is invalid; the body names it."),
    },
)
class EventListView(generics.ListAPIView):
    """Economic events, soonest first (newest first for `range=past`)."""

    serializer_class = EventSerializer

    def get_queryset(self):
        query = EventQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        first, last = params.get("date_from"), params.get("date_to")
        if first or last:
            window = selectors.Window(
                datetime.combine(first, time(0), tzinfo=UTC) if first else None,
                datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC) if last else None,
            )
        else:
            window = selectors.range_window(params.get("range", "upcoming"))
        country = params.get("country")
        return selectors.events_list(
            window=window,
            countries=[country.upper()] if country else None,
            min_importance=IMPORTANCE.get(params.get("importance", "")),
        )


@extend_schema(responses={200: EventSerializer, 404: OpenApiResponse(description="No such event.")})
class EventDetailView(generics.RetrieveAPIView):
    serializer_class = EventSerializer
    queryset = EconomicEvent.objects.all()
