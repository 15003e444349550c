"""DailyBar.ticker loses its own index: the unique (ticker, date) index serves every lookup
by ticker. Only the index is dropped (its name is Django's, the same on every database); the
foreign key stays as it is, so the largest table is neither re-validated nor locked for long.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "markets_dailybar_ticker_id_0a4fd24f"


class Migration(migrations.Migration):
    dependencies = [
        ("markets", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="dailybar",
                    name="ticker",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="bars",
                        to="markets.ticker",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"',
                    reverse_sql=f'CREATE INDEX "{INDEX}" ON "markets_dailybar" ("ticker_id")',
                ),
            ],
        ),
    ]
