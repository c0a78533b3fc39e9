import django.db.models.deletion
import intents.models
from django.db import migrations, models


class Migration(migrations.Migration):
    """Every request proffers an agreement (0004 gave one to each existing request). A separate
    migration: PostgreSQL refuses to alter a table with row changes pending in the same
    transaction."""

    dependencies = [
        ("intents", "0006_agreements"),
    ]

    operations = [
        migrations.AlterField(
            model_name="intent",
            name="agreement",
            field=models.ForeignKey(
                default=intents.models.default_agreement_id,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="intents",
                to="intents.agreement",
            ),
        ),
    ]
