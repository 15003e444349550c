from __future__ import annotations

from django.contrib import admin

from insights.insiders.models import InsiderFiling, InsiderTransaction


class TransactionInline(admin.TabularInline):
    model = InsiderTransaction
    extra = 0
    fields = (
        "table",
        "row",
        "trade_date",
        "code",
        "acquired",
        "shares",
        "price",
        "value",
        "shares_after",
        "direct",
    )
    readonly_fields = fields
    can_delete = False
    show_change_link = True


@admin.register(InsiderFiling)
class InsiderFilingAdmin(admin.ModelAdmin):
    list_display = (
        "filed_on",
        "known_at",
        "form",
        "issuer_symbol",
        "insider_name",
        "relationship",
        "accession",
        "amended_by",
    )
    list_filter = (
        "form",
        "is_director",
        "is_officer",
        "is_ten_percent_owner",
        "rule_10b5_1",
        "source",
    )
    search_fields = ("accession", "issuer_symbol", "issuer_name", "insider_name", "insider_cik")
    date_hierarchy = "filed_on"
    raw_id_fields = ("ticker", "amended_by")
    inlines = [TransactionInline]
    show_full_result_count = False


@admin.register(InsiderTransaction)
class InsiderTransactionAdmin(admin.ModelAdmin):
    list_display = (
        "trade_date",
        "symbol",
        "code",
        "acquired",
        "shares",
        "price",
        "value",
        "insider",
    )
    list_filter = ("code", "table", "acquired", "direct")
    search_fields = ("filing__issuer_symbol", "filing__insider_name", "filing__accession")
    list_select_related = ("filing",)
    raw_id_fields = ("filing", "ticker")
    date_hierarchy = "trade_date"
    show_full_result_count = False

    @admin.display(ordering="filing__issuer_symbol")
    def symbol(self, obj):
        return obj.filing.issuer_symbol

    @admin.display(ordering="filing__insider_name")
    def insider(self, obj):
        return obj.filing.insider_name
