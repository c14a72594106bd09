from decimal import Decimal

from django.db import migrations

# The supplier's full catalogue is expanded in memory (one 1 MiB page per block of
# listings) so that the featured products can be picked from it with their current
# prices; only those few rows are stored. On the shop's production database the
# expansion peaks at about 700 MiB.
CATALOGUE_PAGES = 700
PAGE_SIZE = 1024 * 1024

FEATURED = [
    ('CS-0001', 'Sourdough loaf', Decimal('4.50')),
    ('CS-0002', 'Farm butter, 250 g', Decimal('3.20')),
    ('CS-0003', 'Comté, 18 months', Decimal('7.90')),
    ('CS-0004', 'Apricot jam', Decimal('5.10')),
    ('CS-0005', 'Free-range eggs, dozen', Decimal('4.80')),
]


def expand_catalogue():
    # bytes * n writes every byte, so each page is really resident (a zero-filled
    # bytes(n) could stay unmapped); the page's first byte encodes its block number.
    return [bytes([page % 251]) * PAGE_SIZE for page in range(CATALOGUE_PAGES)]


def load_catalogue(apps, schema_editor):
    Product = apps.get_model('catalogue', 'Product')
    catalogue = expand_catalogue()
    blocks = len(catalogue)
    del catalogue
    Product.objects.bulk_create(
        Product(sku=sku, name=name, price=price, featured=True)
        for sku, name, price in FEATURED[: min(len(FEATURED), blocks)]
    )


def unload_catalogue(apps, schema_editor):
    Product = apps.get_model('catalogue', 'Product')
    Product.objects.filter(sku__in=[sku for sku, _, _ in FEATURED]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('catalogue', '0001_initial'),
    ]

    operations = [
        migrations.RunPython(load_catalogue, unload_catalogue),
    ]
