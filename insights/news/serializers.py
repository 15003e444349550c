"""API shapes for news articles and their analysis (read-only)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from insights.news.models import Article, ArticleAnalysis, TickerSentiment


class TickerSentimentSerializer(serializers.ModelSerializer):
    symbol = serializers.CharField(source="ticker.symbol")

    class Meta:
        model = TickerSentiment
        fields = ["symbol", "sentiment", "reason"]


class AnalysisSerializer(serializers.ModelSerializer):
    # Plain strings: an enum named "status" would collide with other apps' status enums.
    status = serializers.CharField(help_text="analysed or failed (see failure_reason).")
    ticker_sentiments = TickerSentimentSerializer(many=True)
    key_points = serializers.ListField(child=serializers.CharField())
    sectors = serializers.ListField(child=serializers.CharField())
    # The same mapping as the article page (ArticleAnalysis.evidence_sentences): each stored
    # quote as the article's own sentence, quotes under MIN_QUOTE_WORDS words left out. The
    # article comes with the analysis (select_related), so this costs no query.
    evidence = serializers.ListField(
        child=serializers.CharField(),
        source="evidence_sentences",
        read_only=True,
        help_text="Sentences quoted from the article text, as the article has them "
        "(at least 4 words each).",
    )
    offline = serializers.SerializerMethodField(
        help_text="True for the offline word-list analysis."
    )

    class Meta:
        model = ArticleAnalysis
        fields = [
            "kind",
            "offline",
            "status",
            "failure_reason",
            "sentiment",
            "label",
            "impact",
            "summary",
            "key_points",
            "sectors",
            "evidence",
            "ticker_sentiments",
            "model",
            "prompt_version",
            "analysed_at",
        ]

    def get_offline(self, obj: ArticleAnalysis) -> bool:
        return obj.kind == ArticleAnalysis.Kind.OFFLINE


class ArticleSerializer(serializers.ModelSerializer):
    tickers = serializers.SerializerMethodField()
    analysis = serializers.SerializerMethodField()
    offline = serializers.SerializerMethodField(
        help_text="True when the current analysis is the offline word-list one."
    )
    story_id = serializers.IntegerField(allow_null=True, read_only=True)
    also_reported_by = serializers.SerializerMethodField()

    class Meta:
        model = Article
        fields = [
            "id",
            "source",
            "publisher",
            "url",
            "title",
            "description",
            "author",
            "published_at",
            "tickers",
            "story_id",
            "also_reported_by",
            "offline",
            "analysis",
        ]

    @staticmethod
    def _analysis(obj: Article) -> ArticleAnalysis | None:
        try:
            return obj.analysis
        except ArticleAnalysis.DoesNotExist:
            return None

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_tickers(self, obj: Article) -> list[str]:
        return [link.ticker.symbol for link in obj.ticker_links.all()]

    @extend_schema_field(AnalysisSerializer(allow_null=True))
    def get_analysis(self, obj: Article):
        analysis = self._analysis(obj)
        return None if analysis is None else AnalysisSerializer(analysis).data

    def get_offline(self, obj: Article) -> bool:
        analysis = self._analysis(obj)
        return analysis is not None and analysis.kind == ArticleAnalysis.Kind.OFFLINE

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_also_reported_by(self, obj: Article) -> list[str]:
        if not obj.story_id:
            return []
        names: list[str] = []
        own = obj.publisher or obj.source
        for member in getattr(obj.story, "members", []):
            name = member.publisher or member.source
            if member.pk != obj.pk and name != own and name not in names:
                names.append(name)
        return names
