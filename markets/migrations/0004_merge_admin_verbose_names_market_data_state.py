# Both 0003s came from parallel branches (admin verbose names; the market-data state); they
# touch different models, so merging them needs no operation.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("markets", "0003_admin_verbose_names"),
        ("markets", "0003_market_data_state"),
    ]

    operations = []
